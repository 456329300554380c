import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishFile, replaceFile, replaceFileSync } from '../../src/core/durable.js';
import { tempDir } from '../helpers/cli.js';

describe('durable file replacement', () => {
  it('replaces a file whole and leaves no temporary file beside it', async () => {
    const dir = tempDir();
    const file = join(dir, 'record.json');
    writeFileSync(file, 'old');
    replaceFileSync(file, 'new, synchronously');
    expect(readFileSync(file, 'utf8')).toBe('new, synchronously');
    await replaceFile(file, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(file)]).toEqual([1, 2, 3]);
    expect(readdirSync(dir)).toEqual(['record.json']);
  });

  it('keeps the old file and removes its temporary file when the rename fails', async () => {
    const dir = tempDir();
    const occupied = join(dir, 'occupied');
    mkdirSync(join(occupied, 'inside'), { recursive: true });
    expect(() => replaceFileSync(occupied, 'x')).toThrow(expect.objectContaining({ code: 'EISDIR' }));
    await expect(replaceFile(occupied, 'x')).rejects.toMatchObject({ code: 'EISDIR' });
    expect(readdirSync(dir)).toEqual(['occupied']);
  });

  it('publishes a finished temporary file under its final name', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'out.csv.part'), 'a,b\n1,2\n');
    await publishFile(join(dir, 'out.csv.part'), join(dir, 'out.csv'));
    expect(readdirSync(dir)).toEqual(['out.csv']);
    expect(readFileSync(join(dir, 'out.csv'), 'utf8')).toBe('a,b\n1,2\n');
  });
});

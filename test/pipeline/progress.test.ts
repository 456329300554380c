import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Progress, renderBar } from '../../src/pipeline/progress.js';

function terminal(): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  let text = '';
  stream.on('data', (chunk) => (text += chunk));
  (stream as { isTTY?: boolean }).isTTY = true;
  return { stream, text: () => text };
}

describe('step progress display', () => {
  it('draws a live line for the running step and a final line with status, time and summary', () => {
    const { stream, text } = terminal();
    const progress = new Progress(stream);
    progress.start('ingest');
    progress.update('ingest', 0.5, '190,000 rows');
    progress.finish('ingest', 'ok', '381,109 rows', 1.234);
    progress.start('train');
    progress.finish('train', 'cached', 'gbdt on 304,887 rows', 0.002);
    expect(text()).toMatch(/✓.* ingest .*1\.23 s.* {2}381,109 rows\n/);
    expect(text()).toMatch(/↺.* train +\(reused\).*0\.00 s/);
  });

  it('prints nothing when the output is not a terminal', () => {
    const stream = new PassThrough() as unknown as NodeJS.WriteStream;
    let text = '';
    (stream as unknown as PassThrough).on('data', (chunk) => (text += chunk));
    const progress = new Progress(stream);
    progress.start('ingest');
    progress.finish('ingest', 'ok', 'done', 1);
    expect(progress.enabled).toBe(false);
    expect(text).toBe('');
  });

  it('fills the bar in proportion', () => {
    expect(renderBar(0.5, 10)).toBe('[#####.....]');
    expect(renderBar(2, 4)).toBe('[####]');
  });
});

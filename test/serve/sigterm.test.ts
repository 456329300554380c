// Graceful shutdown of a real `pipewright serve` process: on SIGTERM it stops accepting connections,
// finishes the request in flight, and exits 0 (needs dist/).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, waitFor } from '../helpers/cli.js';
import { createTestProject, ROOT, validRecord, type TestProject } from '../fixtures/model.js';

describe('pipewright serve', () => {
  let project: TestProject | undefined;
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    project?.cleanup();
  });

  it('finishes the request in flight on SIGTERM, refuses new connections, and exits 0', async () => {
    expect(
      existsSync(join(ROOT, 'dist', 'cli', 'commands', 'serve.js')),
      'dist/ is missing: run `npx tsc -p tsconfig.build.json`',
    ).toBe(true);
    project = await createTestProject();
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (!name.startsWith('MONGODB_') && !name.startsWith('PIPEWRIGHT_') && !name.startsWith('VITEST'))
        env[name] = value;
    }
    child = spawn(process.execPath, [BIN, '--json', 'serve', '--port', '0'], {
      cwd: project.dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout = { text: '' };
    const stderr = { text: '' };
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    child.stderr!.on('data', (chunk: Buffer) => (stderr.text += chunk.toString()));
    const [, url] = await waitFor(child.stdout!, /"url": "(http:\/\/127\.0\.0\.1:\d+)"/, stdout);
    const port = Number(new URL(url).port);

    // A request whose body is only half sent is in flight until the rest arrives.
    const body = JSON.stringify(validRecord());
    const socket: Socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const response = { text: '' };
    socket.on('data', (chunk: Buffer) => (response.text += chunk.toString()));
    const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      `POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
    );
    socket.write(body.slice(0, 20));
    // The server has read the headers once it counts the connection as busy; give it a moment by a round trip.
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 100));

    child.kill('SIGTERM');
    await waitFor(child.stderr!, /shutting down/, stderr);
    // The listening socket closes while the request is still in flight.
    const probe = () =>
      new Promise<string>((resolve) => {
        const attempt = connect(port, '127.0.0.1');
        attempt.once('connect', () => {
          attempt.destroy();
          resolve('connected');
        });
        attempt.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
    // A connection the kernel queued while the listener was closing is reset rather than refused; keep
    // probing until the port itself refuses.
    let refused = await probe();
    for (let tries = 0; refused !== 'ECONNREFUSED' && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      refused = await probe();
    }
    expect(refused).toBe('ECONNREFUSED');

    socket.end(body.slice(20));
    await socketClosed;
    expect(response.text).toMatch(/^HTTP\/1\.1 200 OK/);
    const json = JSON.parse(response.text.slice(response.text.indexOf('\r\n\r\n') + 4)) as Record<
      string,
      unknown
    >;
    expect(json.version).toBe('v1');
    expect(typeof json.probability).toBe('number');
    expect(await exited).toBe(0);
    expect(stderr.text).toMatch(/server stopped/);
  }, 30_000);
});

// The serve soak (`npm run bench -- serve --soak 600 --stall 30`): one `pipewright serve` process at a
// paced 1,000 requests/s for the whole soak, while another process holds the embedded store's exclusive
// lock for `--stall` seconds in the middle. Per phase (before, during, after the stall): rate, p50/p99,
// 5xx and other errors, prediction log records written and dropped, and RSS sampled every second.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Buffer } from 'node:buffer';
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';

const PHASES = ['before', 'stall', 'after'];

/** A child process holding SQLite's exclusive lock on `file` until its stdin closes. */
async function lockStore(file, cwd) {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(${JSON.stringify(file)});
    db.pragma('busy_timeout = 10000');
    db.exec('BEGIN EXCLUSIVE');
    process.stdout.write('locked\\n');
    process.stdin.resume();
    process.stdin.on('end', () => { db.exec('ROLLBACK'); db.close(); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['-e', script], { cwd, stdio: ['pipe', 'pipe', 'inherit'] });
  await once(child.stdout, 'data');
  return async () => {
    child.stdin.end();
    await once(child, 'exit');
  };
}

/** Prediction log counters from /metrics: written, and dropped by reason. */
async function logCounters(url) {
  const text = await (await globalThis.fetch(`${url}/metrics`)).text();
  const read = (pattern) => [...text.matchAll(pattern)].reduce((sum, match) => sum + Number(match[1]), 0);
  return {
    written: read(/^pipewright_prediction_log_total\{outcome="written"\} (\d+)/gm),
    dropped: read(/^pipewright_prediction_log_dropped_total\{reason="\w+"\} (\d+)/gm),
  };
}

function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * Runs the soak and returns its figures. `start` starts a server ({ url, child }), `stop` sends SIGTERM
 * and resolves with the exit code, `rss(pid)` reads the resident memory of a process tree in MB.
 */
export async function runSoak({
  start,
  stop,
  rss,
  bodies,
  storeFile,
  cwd,
  seconds,
  stall,
  rate = 1000,
  log,
}) {
  const stallStart = Math.max(0, (seconds - stall) / 2);
  const stallEnd = stallStart + stall;
  const server = await start();
  const target = new URL(server.url);
  const idleRss = rss(server.child.pid);
  const phase = (at) => (at < stallStart ? 'before' : at < stallEnd ? 'stall' : 'after');
  const stats = Object.fromEntries(
    PHASES.map((name) => [
      name,
      { latencies: [], status5xx: 0, otherNon2xx: 0, errors: 0, skipped: 0, rss: [] },
    ]),
  );
  const counters = { start: await logCounters(server.url) };

  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const maxInFlight = 256;
  let inFlight = 0;
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const begin = performance.now();
  const elapsed = () => (performance.now() - begin) / 1000;
  const sampler = setInterval(() => stats[phase(elapsed())].rss.push(rss(server.child.pid)), 1000);

  // The stall: locked at stallStart, released at stallEnd, with the counters read at both edges.
  const stallDone = (async () => {
    await sleep(stallStart * 1000);
    counters.stallStart = await logCounters(server.url);
    log(`  ${elapsed().toFixed(0)} s: locking the store for ${stall} s`);
    const release = await lockStore(storeFile, cwd);
    await sleep(Math.max(0, (stallEnd - elapsed()) * 1000));
    await release();
    log(`  ${elapsed().toFixed(0)} s: store released`);
    counters.stallEnd = await logCounters(server.url);
  })();

  await new Promise((resolve) => {
    let settled = 0;
    const settle = () => {
      if (++settled === total) resolve();
    };
    const send = (index) => {
      const due = index * interval;
      const bucket = stats[phase(due / 1000)];
      if (inFlight >= maxInFlight) {
        bucket.skipped++;
        settle();
        return;
      }
      inFlight++;
      const sentAt = performance.now();
      const body = bodies[index % bodies.length];
      const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
      const request = httpRequest(
        { host: target.hostname, port: target.port, path: '/predict', method: 'POST', agent, headers },
        (response) => {
          response.resume();
          response.on('end', () => {
            inFlight--;
            if (response.statusCode >= 500) bucket.status5xx++;
            else if (response.statusCode < 200 || response.statusCode >= 300) bucket.otherNon2xx++;
            bucket.latencies.push(performance.now() - sentAt);
            settle();
          });
        },
      );
      request.on('error', () => {
        inFlight--;
        bucket.errors++;
        settle();
      });
      request.end(body);
    };
    let next = 0;
    const tick = () => {
      const now = performance.now() - begin;
      while (next < total && next * interval <= now) send(next++);
      if (next < total) setTimeout(tick, Math.max(0, Math.min(1, next * interval - now)));
    };
    tick();
  });
  await stallDone;
  clearInterval(sampler);
  agent.destroy();
  counters.end = await logCounters(server.url);
  const busyRss = rss(server.child.pid);
  const signalled = performance.now();
  const exitCode = await stop(server);
  const exitMs = performance.now() - signalled;

  const edges = {
    before: ['start', 'stallStart'],
    stall: ['stallStart', 'stallEnd'],
    after: ['stallEnd', 'end'],
  };
  const phases = PHASES.map((name) => {
    const bucket = stats[name];
    bucket.latencies.sort((a, b) => a - b);
    const [from, to] = edges[name];
    const span = name === 'before' ? stallStart : name === 'stall' ? stall : seconds - stallEnd;
    return {
      name,
      seconds: span,
      requests: bucket.latencies.length,
      rate: bucket.latencies.length / Math.max(span, 1e-9),
      p50: percentile(bucket.latencies, 0.5),
      p99: percentile(bucket.latencies, 0.99),
      status5xx: bucket.status5xx,
      otherNon2xx: bucket.otherNon2xx,
      errors: bucket.errors,
      skipped: bucket.skipped,
      written: counters[to].written - counters[from].written,
      dropped: counters[to].dropped - counters[from].dropped,
      rssMax: bucket.rss.length > 0 ? Math.max(...bucket.rss) : NaN,
      rssEnd: bucket.rss.length > 0 ? bucket.rss[bucket.rss.length - 1] : NaN,
    };
  });
  return { phases, idleRss, busyRss, exitCode, exitMs, stallStart, stallEnd, stderr: server.stderr() };
}

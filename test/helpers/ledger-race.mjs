// Processes appending to one ledger at once (ledger-appender.mjs, on the compiled code), started
// together once each has opened it. Plain JS, so that the tests and the benchmark both run it.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const appender = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ledger-appender.mjs');

/** Resolves to each writer's exit code and their stderr, once all have exited. */
export async function ledgerRace({ location, writers, each }) {
  const children = Array.from({ length: writers }, (_, w) =>
    spawn(process.execPath, [appender, location, `w${w}`, String(each)], { stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  const stderr = [];
  const exits = children.map(
    (child) =>
      new Promise((resolve) => {
        child.stderr.on('data', (d) => stderr.push(d.toString()));
        child.on('exit', (code) => resolve(code));
      }),
  );
  // Each says "ready" once its ledger is open; one that exits before (it could not open it) ends the race with what it said.
  const ready = children.map(
    (child) =>
      new Promise((resolve, reject) => {
        child.stdout.once('data', resolve);
        child.once('exit', (code) => reject(new Error(`a writer exited (${code}) before it was ready:\n${stderr.join('')}`)));
      }),
  );
  try {
    await Promise.all(ready);
  } catch (err) {
    for (const child of children) child.kill();
    await Promise.all(exits);
    throw err;
  }
  const started = performance.now();
  for (const child of children) child.stdin.end('go\n');
  const codes = await Promise.all(exits);
  return { codes, stderr: stderr.join(''), ms: performance.now() - started };
}

// A lock race between processes: each racer (lock-racer.mjs, on the compiled code) takes the
// same key `each` times, journaling the monotonic-clock interval it held it. The result lets a
// test (test/helpers/lock-race.ts) or the benchmark (bench/shared-state.js) check that no two
// holding intervals overlap. Plain JS, so that both can run it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const racer = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lock-racer.mjs');

export async function lockRace(o) {
  const children = Array.from({ length: o.processes }, () =>
    spawn(process.execPath, [racer, o.url, o.journal, String(o.each), String(o.ttlMs)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...o.env },
    }),
  );
  const stderr = [];
  const exits = children.map(
    (child) =>
      new Promise((resolve) => {
        child.stderr.on('data', (d) => stderr.push(d.toString()));
        child.on('exit', (code) => resolve(code));
      }),
  );
  // Start them together, once every one has loaded.
  await Promise.all(children.map((child) => new Promise((resolve) => child.stdout.once('data', resolve))));
  for (const child of children) child.stdin.end('go\n');
  const codes = await Promise.all(exits);
  const holds = readFileSync(o.journal, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
    .map((e) => ({ ...e, start: BigInt(e.start), end: BigInt(e.end) }))
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  return { holds, stderr: stderr.join(''), codes };
}

/** Pairs of holds whose intervals overlap (there must be none). */
export function overlaps(holds) {
  const out = [];
  for (let i = 1; i < holds.length; i++) {
    const prev = holds[i - 1];
    const cur = holds[i];
    if (cur.start < prev.end) out.push(`${prev.pid}/${prev.lockId} and ${cur.pid}/${cur.lockId}`);
  }
  return out;
}

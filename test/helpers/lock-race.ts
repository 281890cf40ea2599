/**
 * A lock race between processes: each racer (lock-racer.mjs, on the compiled code) takes the
 * same key `each` times, journaling the monotonic-clock interval it held it. The result lets a
 * test check that no two holding intervals overlap.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, walk } from './testdir.js';

export interface Hold {
  pid: number;
  lockId: string;
  start: bigint;
  end: bigint;
  /** The hold outlived its lease (the race would then prove nothing). */
  expired: boolean;
  /** Its release found its own lock (nobody took it meanwhile). */
  released: boolean;
}

/** The racers run dist/: refuse to race a copy older than the sources. */
export function requireFreshBuild(): void {
  for (const ts of walk(path.join(repoRoot, 'src', 'lock')).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.contract.ts'))) {
    const js = path.join(repoRoot, 'dist', path.relative(path.join(repoRoot, 'src'), ts)).replace(/\.ts$/, '.js');
    if (!existsSync(js) || statSync(js).mtimeMs < statSync(ts).mtimeMs) throw new Error(`${js} is missing or older than its source: run \`npm run build\` first`);
  }
}

export async function lockRace(o: { url: string; journal: string; processes: number; each: number; ttlMs: number; env?: Record<string, string> }): Promise<{ holds: Hold[]; stderr: string; codes: Array<number | null> }> {
  const racer = path.join(repoRoot, 'test', 'helpers', 'lock-racer.mjs');
  const children = Array.from({ length: o.processes }, () =>
    spawn(process.execPath, [racer, o.url, o.journal, String(o.each), String(o.ttlMs)], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...o.env } }),
  );
  const stderr: string[] = [];
  const exits = children.map(
    (child) =>
      new Promise<number | null>((resolve) => {
        child.stderr.on('data', (d: Buffer) => stderr.push(d.toString()));
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
    .map((line) => JSON.parse(line) as Omit<Hold, 'start' | 'end'> & { start: string; end: string })
    .map((e) => ({ ...e, start: BigInt(e.start), end: BigInt(e.end) }))
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  return { holds, stderr: stderr.join(''), codes };
}

/** Pairs of holds whose intervals overlap (there must be none). */
export function overlaps(holds: Hold[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < holds.length; i++) {
    const prev = holds[i - 1]!;
    const cur = holds[i]!;
    if (cur.start < prev.end) out.push(`${prev.pid}/${prev.lockId} and ${cur.pid}/${cur.lockId}`);
  }
  return out;
}

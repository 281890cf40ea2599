/**
 * What a test run must not leave behind. The run gets a temporary directory of its own (TMPDIR,
 * inherited by every process the tests start, so concurrent runs never see each other's), and a
 * marker in the environment; after the run, what is left is found: processes carrying the marker
 * or running in or on that directory, mounts under it, and anything still inside it.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Leftover {
  kind: 'process' | 'mount' | 'file';
  what: string;
  pid?: number;
  path?: string;
}

// Not DEPLOYER_*: hooks pass those on to the commands they run.
const MARKER = 'TESTS_OF_DEPLOYER_RUN';

export interface TestRun {
  marker: string;
  /** The run's own temporary directory. */
  tmp: string;
}

/** Gives the tests a temporary directory of their own and marks every process they start. */
export function markTestRun(): TestRun {
  const run = { marker: randomUUID(), tmp: mkdtempSync(path.join(os.tmpdir(), 'deployer-tests-')) };
  process.env[MARKER] = run.marker;
  process.env['TMPDIR'] = run.tmp;
  return run;
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function processes(run: TestRun): Leftover[] {
  const marker = `${MARKER}=${run.marker}`;
  const out: Leftover[] = [];
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    const pid = Number(p);
    if (pid === process.pid) continue;
    const cmd = read(`/proc/${p}/cmdline`).split('\0').join(' ').trim();
    if (!cmd || /vitest/.test(cmd)) continue; // the runner and its workers
    const stat = read(`/proc/${p}/stat`);
    if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue;
    let cwd = '';
    try {
      cwd = readlinkSync(`/proc/${p}/cwd`);
    } catch {
      // not ours to read
    }
    if (read(`/proc/${p}/environ`).split('\0').includes(marker) || cmd.includes(run.tmp) || cwd.startsWith(run.tmp)) {
      out.push({ kind: 'process', what: `${pid} ${cmd.slice(0, 160)}`, pid });
    }
  }
  return out;
}

function mounts(run: TestRun): Leftover[] {
  return read('/proc/mounts')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(run.tmp))
    .map((m) => ({ kind: 'mount' as const, what: m, path: m }));
}

function files(run: TestRun): Leftover[] {
  let names: string[] = [];
  try {
    names = readdirSync(run.tmp);
  } catch {
    return [];
  }
  return names.map((n) => ({ kind: 'file' as const, what: path.join(run.tmp, n), path: path.join(run.tmp, n) }));
}

export function leftBehind(run: TestRun): Leftover[] {
  return [...processes(run), ...mounts(run), ...files(run)];
}

/** Kills, unmounts and removes what was found, and the run's directory, so one failing run does not spoil the next. */
export function removeLeftovers(run: TestRun, found: Leftover[]): void {
  for (const f of found.filter((x) => x.kind === 'process')) {
    for (const target of [-f.pid!, f.pid!]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // gone, or not a group leader
      }
    }
  }
  for (const f of found.filter((x) => x.kind === 'mount')) {
    try {
      execFileSync('umount', ['-l', f.path!], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
  rmSync(run.tmp, { recursive: true, force: true });
}

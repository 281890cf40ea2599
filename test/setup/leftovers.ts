/**
 * What a test run must not leave behind, found after it: processes it started (they carry the
 * run's marker in their environment, or run in or on one of its temporary directories), mounts
 * under the temporary directory, and `deployer-*` temporary directories made during the run.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Leftover {
  kind: 'process' | 'mount' | 'directory';
  what: string;
  pid?: number;
  path?: string;
}

// Not DEPLOYER_*: hooks pass those on to the commands they run.
const MARKER = 'TESTS_OF_DEPLOYER_RUN';
const PREFIX = path.join(os.tmpdir(), 'deployer-');

/** Marks every process the tests start (they inherit it); returns the temporary directories there were before. */
export function markTestRun(): Set<string> {
  process.env[MARKER] = randomUUID();
  return new Set(tempDirs());
}

function tempDirs(): string[] {
  return readdirSync(os.tmpdir()).filter((n) => n.startsWith('deployer-')).map((n) => path.join(os.tmpdir(), n));
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function processes(): Leftover[] {
  const marker = `${MARKER}=${process.env[MARKER]}`;
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
    if (read(`/proc/${p}/environ`).split('\0').includes(marker) || cmd.includes(PREFIX) || cwd.startsWith(PREFIX)) {
      out.push({ kind: 'process', what: `${pid} ${cmd.slice(0, 160)}`, pid });
    }
  }
  return out;
}

function mounts(): Leftover[] {
  return read('/proc/mounts')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(PREFIX))
    .map((m) => ({ kind: 'mount' as const, what: m, path: m }));
}

export function leftBehind(before: Set<string>): Leftover[] {
  const dirs = tempDirs().filter((d) => !before.has(d)).map((d) => ({ kind: 'directory' as const, what: d, path: d }));
  return [...processes(), ...mounts(), ...dirs];
}

/** Kills, unmounts and removes what was found, so that one failing run does not spoil the next. */
export function removeLeftovers(found: Leftover[]): void {
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
  for (const f of found.filter((x) => x.kind === 'directory')) rmSync(f.path!, { recursive: true, force: true });
}

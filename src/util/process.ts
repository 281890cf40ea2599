/**
 * Processes of this host: whether one runs (a zombie, exited and not yet reaped, does not), which
 * carry a marker, and where a program is found on PATH.
 */
import { accessSync, constants, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..." — the state letter follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): kill(0) said it exists
  }
}

/** Signals the process group `pid` leads (a supervisor and its services), or the process alone when it leads none. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

/** One process as /proc tells it. */
export interface ProcessInfo {
  pid: number;
  /** Its session id: the pid of the process that started the session. */
  sid: number;
  /** The command line, arguments joined by spaces. */
  command: string;
}

/**
 * The processes of this host whose environment holds `name=value` (Linux: /proc/<pid>/environ;
 * none elsewhere). A process we may not read is not ours.
 */
export function processesWithEnv(name: string, value: string): ProcessInfo[] {
  const wanted = `${name}=${value}`;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return [];
  }
  const out: ProcessInfo[] = [];
  for (const p of pids) {
    try {
      if (!readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(wanted)) continue;
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // Fields after "(comm)": state ppid pgrp session ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      const command = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      out.push({ pid: Number(p), sid: Number(fields[3]), command });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

/**
 * The absolute path of `program`: the first executable file of that name in the directories of
 * `env`'s PATH, then in `extraDirs`; undefined when there is none.
 */
export function findOnPath(program: string, o: { env?: NodeJS.ProcessEnv; extraDirs?: string[] } = {}): string | undefined {
  for (const dir of [...((o.env ?? process.env)['PATH'] ?? '').split(path.delimiter), ...(o.extraDirs ?? [])]) {
    if (!dir) continue;
    const candidate = path.join(dir, program);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

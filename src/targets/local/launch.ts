/**
 * Which supervisor runs for a runtime directory: only the newest launch. One launched by a
 * create that a killed run cut short, and superseded since, gives way; an older supervisor
 * still running for the directory is stopped first.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { readFileIfExists } from '../../util/atomic-write.js';
import { isAlive, signalGroup } from '../../util/process.js';
import { files } from './protocol.js';

/**
 * Only the newest launch for a directory runs: one launched by a create that a killed run cut
 * short, and superseded since, gives way; an older supervisor still running is stopped first.
 */
export async function claim(dir: string, token: string | undefined): Promise<boolean> {
  if (token === undefined) return true;
  const newest = (await readFileIfExists(files(dir).launch))?.toString('utf8').trim();
  if (newest !== token) return false;
  // Found by what they run, not by status.json (the provider removes it before each launch).
  for (const older of supervisorsOf(dir).filter((pid) => pid !== process.pid)) {
    signalGroup(older, 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while (isAlive(older) && Date.now() < deadline) await sleep(50);
    if (isAlive(older)) signalGroup(older, 'SIGKILL');
  }
  return true;
}

/** The supervisor processes of this host running for `dir` (Linux /proc; none known elsewhere). */
function supervisorsOf(dir: string): number[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return [];
  }
  return pids
    .filter((p) => {
      try {
        const args = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        return args.some((a) => a.endsWith('supervisor.js')) && args.includes(dir) && isAlive(Number(p));
      } catch {
        return false;
      }
    })
    .map(Number);
}

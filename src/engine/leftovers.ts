/**
 * What a run killed with kill -9 leaves running: its `pulumi` (in a session of its own, see
 * session.ts) and the plugins and dynamic-provider processes that pulumi started, all marked
 * with the run's id. They would otherwise live for good, holding Pulumi's stack lock or just
 * memory. The run that takes over the dead run's lock stops them: each pulumi first with SIGINT
 * (it cancels as Ctrl-C would, and writes its checkpoint), then whatever is left. The services
 * a run deployed are not marked (their supervisors get an environment of their own) and stay.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, processesWithEnv, type ProcessInfo } from '../util/process.js';
import { RUN_MARKER } from './session.js';

/** How patient `stopLeftovers` is with a pulumi cancelling. */
export interface StopOptions {
  /** How long a pulumi gets to cancel and write its checkpoint after SIGINT (default 15 s). */
  graceMs?: number;
}

/** Stops every process marked with `runId`; resolves to those it stopped. */
export async function stopLeftovers(runId: string, o: StopOptions = {}): Promise<ProcessInfo[]> {
  const found = processesWithEnv(RUN_MARKER, runId).filter((p) => p.pid !== process.pid);
  if (found.length === 0) return [];
  const leaders = found.filter((p) => p.pid === p.sid);
  for (const p of leaders) signal(p.pid, 'SIGINT');
  await until(() => leaders.every((p) => !isAlive(p.pid)), o.graceMs ?? 15_000);
  const rest = found.filter((p) => isAlive(p.pid));
  for (const p of rest) signal(p.pid, 'SIGTERM');
  await until(() => rest.every((p) => !isAlive(p.pid)), 3_000);
  for (const p of rest) if (isAlive(p.pid)) signal(p.pid, 'SIGKILL');
  await until(() => rest.every((p) => !isAlive(p.pid)), 3_000);
  return found;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await sleep(50);
}

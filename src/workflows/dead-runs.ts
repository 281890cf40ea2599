/**
 * After a run took its locks: what runs that died (kill -9, a lost machine, an expired lease, a
 * lock broken with `lock unlock --force`) left behind. The processes a dead run left on this host
 * (its pulumi, plugins and dynamic providers) are stopped — only when its holder is known to be
 * gone from this host: an expired lease of a live process (a laptop that slept) is not a death.
 * Its ledger records, left in progress, are closed as failed, saying why: under the stack lock
 * every in-progress record of the stack is abandoned (no other run can be in progress); under
 * service or component locks, those of the runs whose locks were taken over.
 */
import os from 'node:os';
import { stopLeftovers } from '../engine/index.js';
import type { LedgerStore } from '../ledger/index.js';
import { holderIsDead } from '../lock/unlock-hint.js';
import type { AcquiredLock, LockInfo } from '../lock/index.js';
import type { LockLevel } from '../model/desired.js';
import type { RunListener } from '../executor/events.js';

interface DeadRun {
  runId: string;
  holder: LockInfo;
}

/** The runs whose locks `locks` took over, once each. */
export function deadRuns(locks: readonly AcquiredLock[]): DeadRun[] {
  const seen = new Map<string, DeadRun>();
  for (const l of locks) {
    const holder = l.takenOverFrom;
    const runId = holder?.metadata['deployment_id'];
    if (holder && runId && !seen.has(runId)) seen.set(runId, { runId, holder });
  }
  return [...seen.values()];
}

export interface CleanUp {
  locks: readonly AcquiredLock[];
  level: LockLevel;
  stack: string;
  environment: string;
  ledger: () => LedgerStore;
  listener: RunListener;
}

export async function cleanUpDeadRuns(o: CleanUp): Promise<void> {
  const runs = deadRuns(o.locks);
  for (const run of runs.filter((r) => holderIsDead(r.holder))) {
    const stopped = await stopLeftovers(run.runId);
    if (stopped.length > 0) {
      o.listener({
        type: 'notice',
        message: `stopped ${stopped.length} process(es) the dead run ${run.runId.slice(0, 8)} left running: ${stopped.map((p) => `${p.pid} ${shortCommand(p.command)}`).join('; ')}`,
      });
    }
  }
  if (runs.length > 0) await closeAbandoned(o.ledger(), { ...o, level: 'component' }, o.listener);
}

/** A holder alive on this host is not dead, whatever its lease says: its records stay open. */
function aliveHere(holder: LockInfo): boolean {
  return holder.lockedBy.endsWith(`@${os.hostname()}`) && !holderIsDead(holder) && holder.metadata['pid'] !== undefined;
}

/**
 * Marks the abandoned in-progress deployments failed, saying why: those of the runs whose locks
 * were taken over, and under the stack lock (`level: 'stack'`) every one of the stack. Called with
 * the stack level only by runs that record deployments (a no-op run does not open the ledger).
 */
export async function closeAbandoned(
  ledger: LedgerStore,
  o: Pick<CleanUp, 'locks' | 'level' | 'stack' | 'environment'>,
  listener: RunListener,
): Promise<number> {
  const taken = new Map(deadRuns(o.locks).map((r) => [r.runId, r.holder]));
  const completed = new Date().toISOString();
  let n = 0;
  for (const d of await ledger.listDeployments({ stack: o.stack, environment: o.environment, status: 'in-progress' })) {
    const holder = d.parentId ? taken.get(d.parentId) : undefined;
    if (holder && aliveHere(holder)) continue;
    let reason: string;
    if (holder) reason = `the run died before it finished (its lock ${holder.lockId}, held by ${holder.lockedBy}, was taken over)`;
    else if (o.level === 'stack')
      reason = "the run ended without finishing it (it was killed, or its lock was broken): no run holds the stack's lock any more";
    else continue;
    await ledger.recordDeployment({ ...d, status: 'failed', completed, metadata: { ...d.metadata, reason } });
    n++;
  }
  if (n > 0)
    listener({
      type: 'notice',
      message: `recorded ${n} deployment(s) left in progress by runs that did not finish as failed in the ledger`,
    });
  return n;
}

function shortCommand(command: string): string {
  return command
    .split(' ')
    .slice(0, 2)
    .map((w) => w.split('/').pop())
    .join(' ');
}

/**
 * After a run took over the lock of one that died (kill -9, a lost machine, an expired lease):
 * stop the processes the dead run left on this host (its pulumi, plugins and dynamic providers)
 * and close its ledger records, which it left in progress: they failed, and the ledger says why.
 */
import { stopLeftovers } from '../engine/index.js';
import type { LedgerStore } from '../ledger/index.js';
import type { AcquiredLock } from '../lock/index.js';
import type { RunListener } from './events.js';

/** The runs whose locks `locks` took over: their ids (deployment_id) and who held them. */
export function deadRuns(locks: readonly AcquiredLock[]): Array<{ runId: string; heldBy: string; lockId: string }> {
  const seen = new Map<string, { runId: string; heldBy: string; lockId: string }>();
  for (const l of locks) {
    const dead = l.takenOverFrom;
    const runId = dead?.metadata['deployment_id'];
    if (dead && runId && !seen.has(runId)) seen.set(runId, { runId, heldBy: dead.lockedBy, lockId: dead.lockId });
  }
  return [...seen.values()];
}

export async function cleanUpDeadRuns(locks: readonly AcquiredLock[], ledger: () => LedgerStore, listener: RunListener): Promise<void> {
  const runs = deadRuns(locks);
  if (runs.length === 0) return;
  for (const run of runs) {
    const stopped = await stopLeftovers(run.runId);
    if (stopped.length > 0) {
      listener({ type: 'notice', message: `stopped ${stopped.length} process(es) the dead run ${run.runId.slice(0, 8)} left running: ${stopped.map((p) => `${p.pid} ${shortCommand(p.command)}`).join('; ')}` });
    }
  }
  const store = ledger();
  const closed = closeAbandoned(store, runs);
  if (closed > 0) listener({ type: 'notice', message: `recorded ${closed} deployment(s) of the dead run(s) as failed in the ledger (they were left in progress)` });
}

/** Marks the in-progress deployments of the dead runs failed, saying why; returns how many. */
export function closeAbandoned(ledger: LedgerStore, runs: Array<{ runId: string; heldBy: string; lockId: string }>): number {
  const completed = new Date().toISOString();
  let n = 0;
  for (const run of runs) {
    for (const d of ledger.listDeployments({ status: 'in-progress' }).filter((x) => x.parentId === run.runId)) {
      const reason = `the run died before it finished (its lock ${run.lockId}, held by ${run.heldBy}, was taken over)`;
      ledger.recordDeployment({ ...d, status: 'failed', completed, metadata: { ...d.metadata, reason } });
      n++;
    }
  }
  return n;
}

function shortCommand(command: string): string {
  const words = command.split(' ');
  return words.slice(0, 2).map((w) => w.split('/').pop()).join(' ');
}

/**
 * The changes an apply ships (lead time for changes, seed 001 "Git hooks for automatic
 * tracking"): the commits the git hooks recorded in the ledger for the stack's repository and no
 * successful deployment has shipped yet. Each deployment of the run carries them in its
 * metadata (`changes: [{commit, committedAt}]`, what the lead-time metric reads); once a
 * deployment of the run succeeded they are shipped by the run and leave the pending list.
 */
import type { ChangeEvent, DeploymentEvent, LedgerStore } from '../ledger/index.js';
import { gitRepository } from '../util/git.js';

export interface PendingChanges {
  repo: string;
  changes: ChangeEvent[];
}

/** The pending changes of the repository `dir` is in; undefined when it is in none, or none are pending. */
export async function pendingChangesOf(ledger: LedgerStore, dir: string): Promise<PendingChanges | undefined> {
  const repo = await gitRepository(dir);
  if (!repo) return undefined;
  const changes = await ledger.pendingChanges(repo.id);
  return changes.length > 0 ? { repo: repo.id, changes } : undefined;
}

/** The metadata entry a deployment carries its changes in. */
export function changesMetadata(pending: PendingChanges | undefined): Record<string, unknown> {
  return pending ? { changes: pending.changes.map((c) => ({ commit: c.commit, committedAt: c.committedAt })) } : {};
}

/** Ships the changes when one of the run's deployments succeeded (the ones recorded since wait for the next run). */
export async function shipChanges(
  ledger: LedgerStore,
  pending: PendingChanges | undefined,
  finished: readonly DeploymentEvent[],
  runId: string,
): Promise<void> {
  if (!pending || !finished.some((d) => d.status === 'success')) return;
  await ledger.shipChanges(
    pending.repo,
    pending.changes.map((c) => c.commit),
    runId,
  );
}

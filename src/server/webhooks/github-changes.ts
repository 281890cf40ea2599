/**
 * GitHub and lead time for changes: which repository a delivery is about, named as deployer's
 * own git hooks name it (`deployer ledger hook install`: the origin URL without credentials), the
 * commits of a `push` recorded as changes, and the changes a successful deployment ships (carried
 * in its metadata as `changes`, what the lead-time metric reads, then marked shipped), as
 * `deployer apply` does with the changes its hooks recorded (workflows/changes.ts).
 */
import { InvalidInputError } from '../../errors.js';
import type { ChangeEvent, DeploymentEvent, LedgerStore } from '../../ledger/index.js';
import { withoutCredentials } from '../../util/git.js';
import type { ChangeWriter } from './change-writer.js';
import { ignored, type WebhookOutcome } from './outcome.js';
import { objectAt, optionalString, stringAt, timeAt, type JsonObject } from './payload.js';

/** The repository a delivery is about. */
export interface GithubRepository {
  /** Its name in the ledger's changes: the HTTPS clone URL without credentials (`https://github.com/o/r.git`). */
  id: string;
  /** `r` */
  name: string;
  /** `o/r` */
  fullName: string;
}

/**
 * The delivery's `repository`. Its id is `clone_url` (else `html_url` + `.git`) without
 * credentials: what `git clone` of GitHub's HTTPS URL sets as origin, so a change recorded by a
 * developer's git hook and one recorded from a push are the same change.
 */
export function repositoryOf(payload: JsonObject): GithubRepository {
  const repo = objectAt(payload, 'repository', 'repository');
  const name = stringAt(repo, 'name', 'repository.name');
  const clone = optionalString(repo, 'clone_url', 'repository.clone_url');
  const html = optionalString(repo, 'html_url', 'repository.html_url');
  const url = clone ?? (html ? `${html.replace(/\/+$/, '')}.git` : undefined);
  if (!url) throw new InvalidInputError('repository.clone_url and repository.html_url are both missing', ['Nothing was recorded.']);
  return { id: withoutCredentials(url), name, fullName: optionalString(repo, 'full_name', 'repository.full_name') ?? name };
}

/**
 * `push`: one change per commit pushed to a branch (GitHub lists at most 2048 commits in a
 * delivery), its time the commit's `timestamp` in UTC. A tag, a deleted branch or a push of no
 * new commits records nothing. A change recorded before (by a hook, or another push of the same
 * commit to another branch) is kept as it was.
 */
export async function recordPush(writer: ChangeWriter, payload: JsonObject, receivedAt: string): Promise<WebhookOutcome> {
  const ref = stringAt(payload, 'ref', 'ref');
  if (!ref.startsWith('refs/heads/')) return ignored(`${ref} is not a branch: nothing to record`);
  if (payload['deleted'] === true) return ignored(`${ref} was deleted: nothing to record`);
  const repo = repositoryOf(payload);
  const commits = payload['commits'];
  if (!Array.isArray(commits)) throw new InvalidInputError('commits is missing or not a list', ['Nothing was recorded.']);
  const changes: ChangeEvent[] = commits.map((c: unknown, i) => {
    const where = `commits[${i}]`;
    if (typeof c !== 'object' || c === null || Array.isArray(c))
      throw new InvalidInputError(`${where} is not an object`, ['Nothing was recorded.']);
    const commit = c as JsonObject;
    return {
      repo: repo.id,
      commit: stringAt(commit, 'id', `${where}.id`),
      committedAt: timeAt(commit, 'timestamp', `${where}.timestamp`),
      recordedAt: receivedAt,
      shippedBy: null,
    };
  });
  if (changes.length === 0) return ignored(`no new commits on ${ref}: nothing to record`);
  await writer.record(changes);
  return { status: 200, result: 'recorded', changes: changes.length };
}

/** What a successful deployment ships: its metadata entry, and the commits to mark shipped once it is written. */
export interface Shipment {
  metadata: Record<string, unknown>;
  commits: string[];
}

/**
 * The changes a successful deployment of `sha` ships: the repository's pending changes committed
 * no later than the deployed commit (its time as recorded, else `commitTime`, else the
 * deployment's start), so a commit pushed after the deployed one waits for a later deployment.
 * When none is pending, the deployed commit's own time (`commit_time`) is still a lead time.
 */
export async function shipmentOf(
  ledger: LedgerStore,
  repo: GithubRepository,
  record: DeploymentEvent,
  sha: string | undefined,
  commitTime: string | undefined,
): Promise<Shipment> {
  const pending = await ledger.pendingChanges(repo.id);
  const deployed = sha === undefined ? undefined : pending.find((c) => c.commit === sha);
  const cutoff = deployed?.committedAt ?? commitTime ?? record.started;
  const shipped = pending.filter((c) => c.committedAt <= cutoff);
  if (shipped.length === 0) return { metadata: commitTime ? { commit_time: commitTime } : {}, commits: [] };
  return {
    metadata: { changes: shipped.map((c) => ({ commit: c.commit, committedAt: c.committedAt })) },
    commits: shipped.map((c) => c.commit),
  };
}

/** Writes a deployment and marks what it shipped (after it: a failed write ships nothing). */
export async function recordShipped(
  ledger: LedgerStore,
  repo: GithubRepository,
  record: DeploymentEvent,
  shipment: Shipment,
): Promise<void> {
  await ledger.recordDeployment({ ...record, metadata: { ...record.metadata, ...shipment.metadata } });
  if (shipment.commits.length > 0) await ledger.shipChanges(repo.id, shipment.commits, record.id);
}

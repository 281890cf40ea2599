/**
 * What a GitHub delivery (its `X-GitHub-Event`) records in the ledger; docs/server.md has the
 * table. Events not listed are received and ignored (202), so a hook subscribed to more events
 * than deployer reads does no harm.
 */
import type { LedgerStore } from '../../ledger/index.js';
import type { ChangeWriter } from './change-writer.js';
import { recordPush } from './github-changes.js';
import { recordGithubDeployment, recordGithubDeploymentStatus, recordWorkflowRun } from './github-deployments.js';
import type { WebhookOutcome } from './outcome.js';
import type { JsonObject } from './payload.js';

/** The events deployer records something of. */
export const GITHUB_EVENTS: ReadonlySet<string> = new Set(['push', 'deployment', 'deployment_status', 'workflow_run']);

/** What processing needs besides the delivery: the ledger, and the writer that groups the changes of concurrent deliveries. */
export interface GithubContext {
  ledger: LedgerStore;
  changes: ChangeWriter;
}

/** Processes one GitHub event (`event` one of GITHUB_EVENTS) received at `receivedAt`. */
export async function processGithubEvent(
  g: GithubContext,
  event: string,
  payload: JsonObject,
  receivedAt: string,
): Promise<WebhookOutcome> {
  if (event === 'push') return recordPush(g.changes, payload, receivedAt);
  // Registered types are read per delivery: a type registered while the server runs is known at once.
  const types = (await g.ledger.deploymentTypes()).map((t) => t.name);
  const c = { ledger: g.ledger, types, changes: g.changes };
  if (event === 'deployment') return recordGithubDeployment(c, payload);
  if (event === 'deployment_status') return recordGithubDeploymentStatus(c, payload);
  return recordWorkflowRun(c, payload, receivedAt);
}

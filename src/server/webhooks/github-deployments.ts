/**
 * GitHub events that become deployment records:
 * - `deployment`: a pending record, its id derived from GitHub's deployment id
 *   (`github-deployment-<id>`) so that the statuses that follow update the same record;
 * - `deployment_status`: that record in the new status (its whole record is built again from the
 *   deployment the status carries, so a status arriving before its deployment, or alone, still
 *   records it right); a final status ends it and, on success, ships the pending changes;
 * - `workflow_run` (completed): the head commit as a change, and, when the workflow deploys
 *   (`deploy` in its name or file), a deployment record of the run's result.
 * GitHub does not promise the order of deliveries, so a final status is never replaced by an
 * earlier one arriving late, and a late `deployment` never resets its record to pending.
 */
import { InvalidInputError } from '../../errors.js';
import { oneOf, type DeploymentEvent, type DeploymentStatus, type LedgerStore } from '../../ledger/index.js';
import type { ChangeWriter } from './change-writer.js';
import { recordShipped, repositoryOf, shipmentOf, type GithubRepository } from './github-changes.js';
import { ignored, type WebhookOutcome } from './outcome.js';
import {
  idAt,
  isObject,
  loginOf,
  objectAt,
  optionalObject,
  optionalString,
  optionalTime,
  stringAt,
  timeAt,
  type JsonObject,
} from './payload.js';

/** The statuses that end a deployment: a later non-final status does not reopen it. */
const FINAL: ReadonlySet<DeploymentStatus> = new Set(['success', 'failed', 'rolled-back']);

/** GitHub's deployment states as ledger statuses; `inactive` (superseded by a newer deployment) changes nothing. */
export const GITHUB_STATES: Readonly<Record<string, DeploymentStatus | null>> = {
  pending: 'pending',
  queued: 'in-progress',
  in_progress: 'in-progress',
  success: 'success',
  failure: 'failed',
  error: 'failed',
  inactive: null,
};

/** A workflow whose name or file says it deploys. */
export const DEPLOY_WORKFLOW = /deploy/i;

/** Workflow run conclusions that are a deployment's result; the others (cancelled, skipped ...) deployed nothing known. */
const RUN_CONCLUSIONS: Readonly<Record<string, DeploymentStatus>> = {
  success: 'success',
  failure: 'failed',
  timed_out: 'failed',
  startup_failure: 'failed',
};

/** Environment names looked for after `deploy` in a workflow's name ("Deploy to staging"). */
const ENVIRONMENT_WORDS = new Set([
  'production',
  'prod',
  'staging',
  'stage',
  'qa',
  'uat',
  'test',
  'testing',
  'dev',
  'development',
  'preview',
  'sandbox',
  'demo',
]);

/** What the ledger needs to know besides a delivery's payload. */
export interface DeploymentContext {
  ledger: LedgerStore;
  /** The deployment types the ledger knows (built-in and registered). */
  types: readonly string[];
  /** How changes are written (grouped with those of other deliveries). */
  changes: ChangeWriter;
}

/** A deployment's `payload` as an object: GitHub passes what its creator gave, an object or a JSON string. */
function payloadOf(d: JsonObject): JsonObject | undefined {
  const p = d['payload'];
  if (isObject(p)) return p;
  if (typeof p !== 'string' || p.trim() === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(p);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined; // free text: nothing deployer reads in it
  }
}

/** The record a GitHub deployment object stands for, pending. */
export function deploymentRecord(
  d: JsonObject,
  repo: GithubRepository,
  sender: string | undefined,
  types: readonly string[],
): DeploymentEvent {
  const id = idAt(d, 'id', 'deployment.id');
  const payload = payloadOf(d);
  const sha = optionalString(d, 'sha', 'deployment.sha');
  const ref = optionalString(d, 'ref', 'deployment.ref');
  const version = optionalString(payload, 'version', 'deployment.payload.version') ?? (sha ? sha.slice(0, 7) : ref);
  if (!version)
    throw new InvalidInputError('deployment.sha and deployment.ref are both missing: no version to record', ['Nothing was recorded.']);
  const commitTime = optionalTime(payload, 'commit_time', 'deployment.payload.commit_time');
  const task = optionalString(d, 'task', 'deployment.task');
  return {
    id: `github-deployment-${id}`,
    stack: optionalString(payload, 'stack', 'deployment.payload.stack') ?? '',
    service: optionalString(payload, 'service', 'deployment.payload.service') ?? repo.name,
    version,
    environment: stringAt(d, 'environment', 'deployment.environment'),
    type: oneOf('deployment.payload.type', optionalString(payload, 'type', 'deployment.payload.type') ?? 'big-bang', types, [
      'A type of your own is registered first: deployer ledger register-type <name> --description <text>. Nothing was recorded.',
    ]),
    started: timeAt(d, 'created_at', 'deployment.created_at'),
    completed: null,
    status: 'pending',
    // Who created the deployment (the deployment event's sender), also when a status is what arrives.
    initiator: loginOf(d, 'creator') ?? sender ?? 'github',
    metadata: {
      source: 'github',
      repository: repo.fullName,
      ...(ref ? { ref } : {}),
      ...(sha ? { sha } : {}),
      ...(task ? { task } : {}),
      github_deployment_id: Number(id),
      ...(commitTime ? { commit_time: commitTime } : {}),
    },
    parentId: null,
  };
}

async function existing(ledger: LedgerStore, id: string): Promise<DeploymentEvent | undefined> {
  return (await ledger.listDeployments({ id, limit: 1 }))[0];
}

/** `deployment`: a pending record, unless its record exists (a status arrived first: it knows more). */
export async function recordGithubDeployment(c: DeploymentContext, payload: JsonObject): Promise<WebhookOutcome> {
  const repo = repositoryOf(payload);
  const record = deploymentRecord(objectAt(payload, 'deployment', 'deployment'), repo, loginOf(payload, 'sender'), c.types);
  if (await existing(c.ledger, record.id)) return ignored(`${record.id} is recorded already (a status of it came first)`, 200);
  await c.ledger.recordDeployment(record);
  return { status: 200, result: 'recorded', deployments: [record.id] };
}

/** `deployment_status`: the deployment's record in its new status. */
export async function recordGithubDeploymentStatus(c: DeploymentContext, payload: JsonObject): Promise<WebhookOutcome> {
  const st = objectAt(payload, 'deployment_status', 'deployment_status');
  const state = stringAt(st, 'state', 'deployment_status.state');
  if (!Object.hasOwn(GITHUB_STATES, state)) {
    throw new InvalidInputError(`deployment_status.state ${JSON.stringify(state)} is not one of ${Object.keys(GITHUB_STATES).join(', ')}`, [
      'Nothing was recorded.',
    ]);
  }
  const status = GITHUB_STATES[state];
  if (!status) return ignored(`deployment status ${state}: nothing to record`, 200);
  const repo = repositoryOf(payload);
  const deployment = objectAt(payload, 'deployment', 'deployment');
  const base = deploymentRecord(deployment, repo, loginOf(payload, 'sender'), c.types);
  const before = await existing(c.ledger, base.id);
  if (before && FINAL.has(before.status) && !FINAL.has(status)) {
    return ignored(`${base.id} has ended (${before.status}): a ${state} status arriving later changes nothing`, 200);
  }
  const at = timeAt(st, 'created_at', 'deployment_status.created_at');
  const completed = FINAL.has(status) ? (at < base.started ? base.started : at) : null;
  const record: DeploymentEvent = { ...base, status, completed };
  const sha = optionalString(deployment, 'sha', 'deployment.sha');
  if (status !== 'success') await c.ledger.recordDeployment(record);
  else if (before?.status === 'success') {
    // A second success status: what the first one shipped stays with the record.
    await c.ledger.recordDeployment({ ...record, metadata: { ...record.metadata, ...leadTimeOf(before) } });
  } else
    await recordShipped(
      c.ledger,
      repo,
      record,
      await shipmentOf(c.ledger, repo, record, sha, base.metadata['commit_time'] as string | undefined),
    );
  return { status: 200, result: 'recorded', deployments: [record.id] };
}

/** What a recorded deployment's lead time is read from. */
function leadTimeOf(d: DeploymentEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['changes', 'commit_time']) if (d.metadata[key] !== undefined) out[key] = d.metadata[key];
  return out;
}

/** The environment a deploy workflow's name names after `deploy` ("Deploy to staging"), else production. */
export function workflowEnvironment(name: string): string {
  const after = name.toLowerCase().split(/deploy/)[1] ?? '';
  return after.split(/[^a-z0-9]+/).find((w) => ENVIRONMENT_WORDS.has(w)) ?? 'production';
}

/** `workflow_run`: a completed run's head commit as a change; a deploy workflow's run as a deployment too. */
export async function recordWorkflowRun(c: DeploymentContext, payload: JsonObject, receivedAt: string): Promise<WebhookOutcome> {
  const action = optionalString(payload, 'action', 'action');
  if (action !== 'completed') return ignored(`workflow run ${action ?? 'without an action'}: only completed runs are recorded`, 200);
  const run = objectAt(payload, 'workflow_run', 'workflow_run');
  const repo = repositoryOf(payload);
  const sha = stringAt(run, 'head_sha', 'workflow_run.head_sha');
  const commitTime = optionalTime(optionalObject(run, 'head_commit'), 'timestamp', 'workflow_run.head_commit.timestamp');
  let changes: WebhookOutcome['changes'];
  if (commitTime) {
    await c.changes.record([{ repo: repo.id, commit: sha, committedAt: commitTime, recordedAt: receivedAt, shippedBy: null }]);
    changes = 1;
  }
  const name =
    optionalString(run, 'name', 'workflow_run.name') ?? optionalString(optionalObject(payload, 'workflow'), 'name', 'workflow.name') ?? '';
  const file = optionalString(run, 'path', 'workflow_run.path') ?? '';
  const conclusion = optionalString(run, 'conclusion', 'workflow_run.conclusion') ?? 'none';
  const status = Object.hasOwn(RUN_CONCLUSIONS, conclusion) ? RUN_CONCLUSIONS[conclusion] : undefined;
  const recordedChanges = (note: string): WebhookOutcome => ({
    status: 200,
    result: changes ? 'recorded' : 'ignored',
    note,
    ...(changes ? { changes } : {}),
  });
  if (!DEPLOY_WORKFLOW.test(name) && !DEPLOY_WORKFLOW.test(file)) return recordedChanges('not a deploy workflow: its head commit only');
  if (!status) return recordedChanges(`conclusion ${conclusion}: no deployment recorded`);
  const runId = idAt(run, 'id', 'workflow_run.id');
  const attempt = typeof run['run_attempt'] === 'number' ? run['run_attempt'] : 1;
  const started =
    optionalTime(run, 'run_started_at', 'workflow_run.run_started_at') ?? timeAt(run, 'created_at', 'workflow_run.created_at');
  const ended = timeAt(run, 'updated_at', 'workflow_run.updated_at');
  const record: DeploymentEvent = {
    id: `github-run-${runId}-${attempt}`,
    stack: '',
    service: repo.name,
    version: sha.slice(0, 7),
    environment: workflowEnvironment(name || file),
    type: 'big-bang',
    started,
    completed: ended < started ? started : ended,
    status,
    initiator: loginOf(run, 'triggering_actor') ?? loginOf(run, 'actor') ?? loginOf(payload, 'sender') ?? 'github',
    metadata: {
      source: 'github',
      repository: repo.fullName,
      workflow: name,
      ...(file ? { workflow_path: file } : {}),
      github_run_id: Number(runId),
      run_attempt: attempt,
      conclusion,
      sha,
      ...(optionalString(run, 'head_branch', 'workflow_run.head_branch') ? { ref: run['head_branch'] } : {}),
    },
    parentId: null,
  };
  if (status === 'success') await recordShipped(c.ledger, repo, record, await shipmentOf(c.ledger, repo, record, sha, commitTime));
  else await c.ledger.recordDeployment(record);
  return { status: 200, result: 'recorded', deployments: [record.id], ...(changes ? { changes } : {}) };
}

/**
 * Webhook deliveries for the receivers' tests: GitHub payloads shaped as GitHub sends them (only
 * the fields deployer reads, and a few it ignores), signed with the receiver's secret, sent
 * through fastify's `inject`.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { signBody } from '../../src/server/webhooks/signature.js';

export const GITHUB_SECRET = 'github-test-secret';
export const REPO = {
  id: 1296269,
  name: 'Hello-World',
  full_name: 'octocat/Hello-World',
  html_url: 'https://github.com/octocat/Hello-World',
  clone_url: 'https://github.com/octocat/Hello-World.git',
  ssh_url: 'git@github.com:octocat/Hello-World.git',
};
/** The repository's name in the ledger's changes. */
export const REPO_ID = 'https://github.com/octocat/Hello-World.git';

export interface Delivery {
  event?: string;
  /** A fresh one when not given. */
  delivery?: string;
  hook?: string;
  secret?: string;
  /** A signature header of its own (or null: none). */
  signature?: string | null;
  contentType?: string;
}

/** Sends `body` (an object, serialized; or the exact bytes) to `url`, signed unless told otherwise. */
export function send(app: FastifyInstance, url: string, body: unknown, o: Delivery = {}): Promise<LightMyRequestResponse> {
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const signature = o.signature === undefined ? signBody(o.secret ?? GITHUB_SECRET, payload) : o.signature;
  const headers: Record<string, string> = { 'content-type': o.contentType ?? 'application/json' };
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  if (url === '/webhooks/github') {
    headers['x-github-event'] = o.event ?? 'push';
    headers['x-github-delivery'] = o.delivery ?? randomUUID();
    headers['x-github-hook-id'] = o.hook ?? '42';
  } else if (o.delivery !== '') headers['x-delivery-id'] = o.delivery ?? randomUUID();
  return app.inject({ method: 'POST', url, headers, payload });
}

/** A GitHub delivery of `event`. */
export function github(app: FastifyInstance, event: string, body: unknown, o: Delivery = {}): Promise<LightMyRequestResponse> {
  return send(app, '/webhooks/github', body, { ...o, event });
}

/** A 40-digit commit id made of `n`. */
export const sha = (n: number): string => n.toString(16).padStart(40, 'a');

/** A push of `commits` (id, timestamp) to `ref`. */
export function pushPayload(commits: Array<{ id: string; timestamp: string }>, ref = 'refs/heads/main'): Record<string, unknown> {
  return {
    ref,
    before: sha(0),
    after: commits.at(-1)?.id ?? sha(0),
    created: false,
    deleted: false,
    forced: false,
    commits: commits.map((c) => ({ ...c, distinct: true, message: 'm', author: { name: 'Mona', email: 'mona@example.com' } })),
    head_commit: commits.at(-1) ?? null,
    repository: REPO,
    pusher: { name: 'mona', email: 'mona@example.com' },
    sender: { login: 'mona' },
  };
}

/** A GitHub deployment object. */
export function deploymentObject(
  o: { id?: number; sha?: string; environment?: string; payload?: unknown; createdAt?: string } = {},
): Record<string, unknown> {
  return {
    id: o.id ?? 101,
    sha: o.sha ?? sha(7),
    ref: 'main',
    task: 'deploy',
    payload: o.payload ?? {},
    environment: o.environment ?? 'production',
    creator: { login: 'octocat' },
    created_at: o.createdAt ?? '2026-03-01T10:00:00Z',
    updated_at: o.createdAt ?? '2026-03-01T10:00:00Z',
  };
}

/** A `deployment` event. */
export function deploymentPayload(d = deploymentObject()): Record<string, unknown> {
  return { action: 'created', deployment: d, repository: REPO, sender: { login: 'octocat' } };
}

/** A `deployment_status` event of `d` in `state` at `at`. */
export function statusPayload(state: string, at: string, d = deploymentObject()): Record<string, unknown> {
  return {
    action: 'created',
    deployment_status: { id: 9000 + at.length, state, environment: d['environment'], created_at: at, updated_at: at },
    deployment: d,
    repository: REPO,
    sender: { login: 'github-actions[bot]' },
  };
}

/** A completed `workflow_run` event. */
export function workflowRunPayload(
  o: { name?: string; path?: string; conclusion?: string; action?: string; headSha?: string; timestamp?: string } = {},
): Record<string, unknown> {
  return {
    action: o.action ?? 'completed',
    workflow_run: {
      id: 30433642,
      name: o.name ?? 'Deploy to staging',
      path: o.path ?? '.github/workflows/deploy.yml',
      head_branch: 'main',
      head_sha: o.headSha ?? sha(9),
      run_attempt: 1,
      event: 'push',
      status: 'completed',
      conclusion: o.conclusion ?? 'success',
      created_at: '2026-03-02T09:00:00Z',
      run_started_at: '2026-03-02T09:00:05Z',
      updated_at: '2026-03-02T09:06:00Z',
      actor: { login: 'octocat' },
      triggering_actor: { login: 'hubot' },
      head_commit: { id: o.headSha ?? sha(9), message: 'm', timestamp: o.timestamp ?? '2026-03-02T09:55:00+01:00' },
    },
    workflow: { id: 159038, name: o.name ?? 'Deploy to staging' },
    repository: REPO,
    sender: { login: 'octocat' },
  };
}

/**
 * A generic receiver's rollback. It has no id: each time it is processed makes a new rollback,
 * so the rollbacks recorded count how many times a delivery was processed.
 */
export const ROLLBACK = {
  type: 'rollback',
  service: 'api',
  environment: 'prod',
  fromVersion: '2',
  toVersion: '1',
  reason: 'slow',
  timestamp: '2026-03-01T12:00:00Z',
};

/**
 * What each GitHub event records, read back from the ledger (and through the API): push ->
 * changes under the repository's name as deployer's git hooks write it; deployment -> a pending
 * record; deployment_status -> the same record in its new status, ended and shipping its changes
 * on success, never reopened by a late status; workflow_run -> the head commit, and a deployment
 * for a deploy workflow. A bad payload is refused naming its field, with nothing written.
 */
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { testServer, type TestServer } from '../../../test/helpers/server.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import {
  deploymentObject,
  deploymentPayload,
  github,
  GITHUB_SECRET,
  pushPayload,
  REPO,
  REPO_ID,
  sha,
  statusPayload,
  workflowRunPayload,
} from '../../../test/helpers/webhooks.js';
import { gitRepository } from '../../util/git.js';
import { repositoryOf } from '../webhooks/github-changes.js';
import { workflowEnvironment } from '../webhooks/github-deployments.js';

const tempDir = useTempDirs('webhooks-github');
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(): Promise<TestServer> {
  server = await testServer({ webhooks: { github: GITHUB_SECRET } });
  return server;
}

describe('push', () => {
  it('records each commit as a change, its time in UTC, under the name deployer gives the repository', async () => {
    const { app, ledger } = await start();
    const r = await github(
      app,
      'push',
      pushPayload([
        { id: sha(1), timestamp: '2026-03-01T09:00:00-08:00' },
        { id: sha(2), timestamp: '2026-03-01T18:30:00+01:00' },
      ]),
    );
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ result: 'recorded', changes: 2 });
    const pending = await ledger.pendingChanges(REPO_ID);
    // Oldest commit first, each time in UTC.
    expect(pending.map((c) => [c.commit, c.committedAt, c.shippedBy])).toEqual([
      [sha(1), '2026-03-01T17:00:00.000Z', null],
      [sha(2), '2026-03-01T17:30:00.000Z', null],
    ]);
    // The same commits pushed to another branch are the same changes.
    const again = await github(app, 'push', pushPayload([{ id: sha(2), timestamp: '2026-03-01T19:30:00+01:00' }], 'refs/heads/release'));
    expect(again.json().changes).toBe(1);
    expect(await ledger.pendingChanges(REPO_ID)).toEqual(pending);
  });

  it('names the repository as a git hook in a clone of it does: its origin URL without credentials', async () => {
    const dir = tempDir();
    execFileSync('git', ['init', '-q', dir]);
    execFileSync('git', ['-C', dir, 'remote', 'add', 'origin', 'https://x-access-token:ghs_abc@github.com/octocat/Hello-World.git']);
    expect((await gitRepository(dir))?.id).toBe(REPO_ID);
    expect(repositoryOf({ repository: REPO }).id).toBe(REPO_ID);
    // Without clone_url, html_url + .git; a credential in a URL is never kept.
    expect(repositoryOf({ repository: { name: 'r', html_url: 'https://github.com/o/r/' } }).id).toBe('https://github.com/o/r.git');
    expect(repositoryOf({ repository: { name: 'r', clone_url: 'https://u:p@ghe.example.com/o/r.git' } }).id).toBe(
      'https://ghe.example.com/o/r.git',
    );
  });

  it('records nothing of a tag, a deleted branch or a push without commits', async () => {
    const { app, ledger } = await start();
    expect((await github(app, 'push', pushPayload([{ id: sha(1), timestamp: '2026-03-01T09:00:00Z' }], 'refs/tags/v1'))).statusCode).toBe(
      202,
    );
    expect((await github(app, 'push', { ...pushPayload([]), deleted: true })).json().note).toMatch(/was deleted/);
    expect((await github(app, 'push', pushPayload([]))).json().note).toMatch(/no new commits/);
    expect(await ledger.pendingChanges(REPO_ID)).toEqual([]);
  });

  it('refuses a commit without a time with zone, naming it, and records none of the push', async () => {
    const { app, ledger } = await start();
    const r = await github(
      app,
      'push',
      pushPayload([
        { id: sha(1), timestamp: '2026-03-01T09:00:00Z' },
        { id: sha(2), timestamp: '2026-03-01 09:00' },
      ]),
    );
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toMatch(/^commits\[1\]\.timestamp "2026-03-01 09:00" is not an ISO 8601 time/);
    expect(await ledger.pendingChanges(REPO_ID)).toEqual([]);
  });
});

describe('deployment and deployment_status', () => {
  it('records a pending deployment, then the same record in progress, then successful and ended', async () => {
    const { app, ledger, as } = await start();
    const created = await github(app, 'deployment', deploymentPayload());
    expect(created.json()).toMatchObject({ result: 'recorded', deployments: ['github-deployment-101'] });
    expect(await ledger.listDeployments()).toEqual([
      {
        id: 'github-deployment-101',
        stack: '',
        service: 'Hello-World',
        version: sha(7).slice(0, 7),
        environment: 'production',
        type: 'big-bang',
        started: '2026-03-01T10:00:00.000Z',
        completed: null,
        status: 'pending',
        initiator: 'octocat',
        metadata: {
          source: 'github',
          repository: 'octocat/Hello-World',
          ref: 'main',
          sha: sha(7),
          task: 'deploy',
          github_deployment_id: 101,
        },
        parentId: null,
      },
    ]);
    await github(app, 'deployment_status', statusPayload('queued', '2026-03-01T10:00:30Z'));
    expect((await ledger.listDeployments())[0]).toMatchObject({ status: 'in-progress', completed: null });
    await github(app, 'deployment_status', statusPayload('in_progress', '2026-03-01T10:01:00Z'));
    const done = await github(app, 'deployment_status', statusPayload('success', '2026-03-01T10:05:00Z'));
    expect(done.json()).toMatchObject({ result: 'recorded', deployments: ['github-deployment-101'] });
    const [d] = await ledger.listDeployments();
    expect(d).toMatchObject({
      status: 'success',
      completed: '2026-03-01T10:05:00.000Z',
      initiator: 'octocat',
      started: '2026-03-01T10:00:00.000Z',
    });
    // Through the API: one record, with its initiator for the auditor.
    const listed = await app.inject({ url: '/api/v1/deployments', headers: as('auditor') });
    expect(listed.json().deployments).toMatchObject([{ id: 'github-deployment-101', status: 'success', initiator: 'octocat' }]);
  });

  it.each([
    ['failure', 'failed'],
    ['error', 'failed'],
    ['pending', 'pending'],
  ])('maps the state %s to %s', async (state, status) => {
    const { app, ledger } = await start();
    expect((await github(app, 'deployment_status', statusPayload(state, '2026-03-01T10:05:00Z'))).statusCode).toBe(200);
    const [d] = await ledger.listDeployments();
    expect(d).toMatchObject({ id: 'github-deployment-101', status, completed: status === 'failed' ? '2026-03-01T10:05:00.000Z' : null });
  });

  it('ignores inactive, and a status arriving after the deployment ended', async () => {
    const { app, ledger } = await start();
    await github(app, 'deployment_status', statusPayload('success', '2026-03-01T10:05:00Z'));
    expect((await github(app, 'deployment_status', statusPayload('inactive', '2026-03-02T10:00:00Z'))).json().note).toMatch(
      /inactive: nothing/,
    );
    expect((await github(app, 'deployment_status', statusPayload('in_progress', '2026-03-01T10:01:00Z'))).json().note).toMatch(/has ended/);
    // The deployment event itself arriving last does not reset its record to pending.
    expect((await github(app, 'deployment', deploymentPayload())).json().note).toMatch(/recorded already/);
    expect(await ledger.listDeployments()).toMatchObject([{ status: 'success', completed: '2026-03-01T10:05:00.000Z' }]);
  });

  it('ships the changes pushed before the deployed commit on success (lead time), and not later ones', async () => {
    const { app, ledger } = await start();
    await github(
      app,
      'push',
      pushPayload([
        { id: sha(5), timestamp: '2026-03-01T08:00:00Z' },
        { id: sha(7), timestamp: '2026-03-01T09:00:00Z' },
        { id: sha(8), timestamp: '2026-03-01T09:30:00Z' },
      ]),
    );
    await github(app, 'deployment', deploymentPayload());
    await github(app, 'deployment_status', statusPayload('success', '2026-03-01T10:05:00Z'));
    const [d] = await ledger.listDeployments();
    expect(d!.metadata['changes']).toEqual([
      { commit: sha(5), committedAt: '2026-03-01T08:00:00.000Z' },
      { commit: sha(7), committedAt: '2026-03-01T09:00:00.000Z' },
    ]);
    expect((await ledger.pendingChanges(REPO_ID)).map((c) => c.commit)).toEqual([sha(8)]);
    // A second success status keeps what the first shipped.
    await github(app, 'deployment_status', statusPayload('success', '2026-03-01T10:06:00Z'));
    expect((await ledger.listDeployments())[0]!.metadata['changes']).toHaveLength(2);
    const metrics = await app.inject({
      url: '/api/v1/metrics?metric=lead-time&from=2026-02-01T00:00:00Z&to=2026-03-31T00:00:00Z',
      headers: server!.as('viewer'),
    });
    expect(metrics.statusCode).toBe(200);
    expect(JSON.stringify(metrics.json())).toMatch(/lead-time/);
  });

  it('takes service, version, stack, type and commit time from the deployment payload (an object or a JSON string)', async () => {
    const { app, ledger } = await start();
    const payload = JSON.stringify({
      service: 'api',
      version: '2.3.0',
      stack: 'shop',
      type: 'canary',
      commit_time: '2026-03-01T09:00:00+02:00',
    });
    await github(app, 'deployment', deploymentPayload(deploymentObject({ id: 7, payload, environment: 'staging' })));
    expect((await ledger.listDeployments())[0]).toMatchObject({
      id: 'github-deployment-7',
      service: 'api',
      version: '2.3.0',
      stack: 'shop',
      type: 'canary',
      environment: 'staging',
      metadata: { commit_time: '2026-03-01T07:00:00.000Z' },
    });
  });

  it.each([
    [{ ...deploymentObject(), environment: undefined }, /^deployment\.environment is missing/],
    [{ ...deploymentObject(), id: 'abc' }, /^deployment\.id is missing or not a numeric id/],
    [{ ...deploymentObject(), created_at: 'yesterday' }, /^deployment\.created_at "yesterday" is not an ISO 8601 time/],
    [{ ...deploymentObject(), sha: undefined, ref: undefined }, /^deployment\.sha and deployment\.ref are both missing/],
  ])('refuses a bad deployment naming the field, writing nothing (%#)', async (deployment, message) => {
    const { app, ledger } = await start();
    const r = await github(app, 'deployment', deploymentPayload(deployment));
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toMatch(message);
    expect(await ledger.listDeployments()).toEqual([]);
  });

  it('refuses an unknown state and a payload without its repository', async () => {
    const { app } = await start();
    expect((await github(app, 'deployment_status', statusPayload('exploded', '2026-03-01T10:05:00Z'))).json().error.message).toMatch(
      /^deployment_status\.state "exploded" is not one of pending, queued/,
    );
    expect((await github(app, 'deployment', { deployment: deploymentObject() })).json().error.message).toBe(
      'repository is missing or not an object',
    );
  });
});

describe('workflow_run', () => {
  it('records a completed deploy workflow as a deployment of its head commit, shipping it', async () => {
    const { app, ledger } = await start();
    const r = await github(app, 'workflow_run', workflowRunPayload());
    expect(r.json()).toMatchObject({ result: 'recorded', deployments: ['github-run-30433642-1'], changes: 1 });
    const [d] = await ledger.listDeployments();
    expect(d).toMatchObject({
      id: 'github-run-30433642-1',
      service: 'Hello-World',
      version: sha(9).slice(0, 7),
      environment: 'staging',
      type: 'big-bang',
      started: '2026-03-02T09:00:05.000Z',
      completed: '2026-03-02T09:06:00.000Z',
      status: 'success',
      initiator: 'hubot',
      metadata: {
        workflow: 'Deploy to staging',
        github_run_id: 30433642,
        conclusion: 'success',
        changes: [{ commit: sha(9), committedAt: '2026-03-02T08:55:00.000Z' }],
      },
    });
    expect(await ledger.pendingChanges(REPO_ID)).toEqual([]);
  });

  it('records a failed deploy run as failed, and a cancelled one as no deployment', async () => {
    const { app, ledger } = await start();
    await github(app, 'workflow_run', workflowRunPayload({ conclusion: 'timed_out' }));
    expect(await ledger.listDeployments()).toMatchObject([{ status: 'failed' }]);
    const cancelled = await github(app, 'workflow_run', workflowRunPayload({ conclusion: 'cancelled', headSha: sha(10) }));
    expect(cancelled.json()).toMatchObject({
      result: 'recorded',
      note: 'conclusion cancelled: no deployment recorded',
      changes: 1,
    });
    expect(await ledger.listDeployments()).toHaveLength(1);
  });

  it('records only the head commit of a workflow that does not deploy, and nothing of a run not completed', async () => {
    const { app, ledger } = await start();
    const ci = await github(app, 'workflow_run', workflowRunPayload({ name: 'CI', path: '.github/workflows/ci.yml' }));
    expect(ci.json()).toMatchObject({ note: 'not a deploy workflow: its head commit only', changes: 1 });
    await github(app, 'workflow_run', workflowRunPayload({ name: 'CI', path: '.github/workflows/ci.yml' }));
    const started = await github(app, 'workflow_run', workflowRunPayload({ action: 'requested', headSha: sha(11) }));
    expect(started.json().note).toMatch(/only completed runs/);
    expect(await ledger.listDeployments()).toEqual([]);
    expect((await ledger.pendingChanges(REPO_ID)).map((c) => c.commit)).toEqual([sha(9)]);
  });

  it('finds the environment a deploy workflow names after "deploy", else production', () => {
    expect(workflowEnvironment('Deploy to staging')).toBe('staging');
    expect(workflowEnvironment('deploy-prod.yml')).toBe('prod');
    expect(workflowEnvironment('Test and deploy')).toBe('production');
    expect(workflowEnvironment('Deploy')).toBe('production');
  });
});

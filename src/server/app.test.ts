/**
 * The server's routes through fastify's inject: the role matrix route by route, who is refused
 * and how, the audit row of every action and refusal, personal data redacted for all but the
 * auditor, the OpenAPI document, health, and errors as JSON.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instantRun, testServer, type TestServer } from '../../test/helpers/server.js';
import { ROLES } from '../ledger/access.js';
import type { DeploymentEvent } from '../ledger/index.js';
import { ROLE_PERMISSIONS, type Permission } from './roles.js';

const deployment = (over: Partial<DeploymentEvent>): DeploymentEvent => ({
  id: 'd1',
  stack: 'quickstart',
  service: 'web',
  version: 'v1',
  environment: 'production',
  type: 'rolling',
  started: '2026-11-01T10:00:00.000Z',
  completed: '2026-11-01T10:05:00.000Z',
  status: 'success',
  initiator: 'alice@example.com',
  metadata: {
    note: 'shipped by alice@example.com',
    api_token: 'hunter2',
    actions: { 'web/api': 'update' },
    results: { 'web/api': 'updated' },
  },
  parentId: 'run-1',
  ...over,
});

let s: TestServer;
beforeAll(async () => {
  s = await testServer({ workflow: instantRun() });
  await s.ledger.recordDeployment(deployment({}));
  await s.ledger.recordDeployment(deployment({ id: 'd2', service: 'assets', parentId: 'run-1' }));
  await s.ledger.recordRollback({
    id: 'r1',
    stack: 'quickstart',
    service: 'web',
    environment: 'production',
    fromVersion: 'v1',
    toVersion: 'v0',
    reason: 'paged by bob@example.com',
    at: '2026-11-01T11:00:00.000Z',
    deploymentId: 'd1',
  });
});
afterAll(() => s.close());

/** Every route that needs a permission, with a request the permitted answer without refusing who asked. */
const ROUTES: { method: 'GET' | 'POST' | 'DELETE'; url: string; permission: Permission; body?: unknown }[] = [
  { method: 'GET', url: '/api/v1/deployments', permission: 'read' },
  { method: 'GET', url: '/api/v1/deployments/d1', permission: 'read' },
  { method: 'GET', url: '/api/v1/rollbacks', permission: 'read' },
  { method: 'GET', url: '/api/v1/metrics', permission: 'read' },
  { method: 'GET', url: '/api/v1/stacks', permission: 'read' },
  { method: 'GET', url: '/api/v1/runs', permission: 'read' },
  { method: 'POST', url: '/api/v1/deploy', permission: 'deploy', body: { stack: 'quickstart', environment: 'dev' } },
  { method: 'POST', url: '/api/v1/rollback/none', permission: 'rollback' },
  { method: 'POST', url: '/api/v1/locks/stack:quickstart:env:dev/force-unlock', permission: 'unlock', body: { lockId: 'x' } },
  { method: 'GET', url: '/api/v1/tokens', permission: 'tokens' },
  { method: 'POST', url: '/api/v1/tokens', permission: 'tokens', body: { name: 'made in a test', role: 'viewer' } },
  { method: 'DELETE', url: '/api/v1/tokens/tok_none', permission: 'tokens' },
  { method: 'GET', url: '/api/v1/audit', permission: 'audit' },
  { method: 'GET', url: '/api/v1/export', permission: 'read' },
];

describe('the role matrix, route by route', () => {
  for (const route of ROUTES) {
    it(`${route.method} ${route.url} needs ${route.permission}`, async () => {
      const ask = (headers: Record<string, string>) =>
        s.app.inject({ method: route.method, url: route.url, headers, ...(route.body ? { payload: route.body as object } : {}) });
      const anonymous = await ask({});
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json().error.code).toBe('UNAUTHENTICATED');
      for (const role of ROLES) {
        const res = await ask(s.as(role));
        const allowed = ROLE_PERMISSIONS[role].has(route.permission);
        expect([role, res.statusCode === 403]).toEqual([role, !allowed]);
        if (!allowed) expect(res.json().error.message).toBe(`the role ${role} may not ${route.permission}`);
        else expect(res.statusCode).toBeLessThan(500);
      }
    });
  }

  it('the public routes need nobody: health, readiness, metrics, the OpenAPI document', async () => {
    for (const url of ['/healthz', '/readyz', '/metrics', '/openapi.json'])
      expect([url, (await s.app.inject({ url })).statusCode]).toEqual([url, 200]);
  });
});

describe('the audit log', () => {
  it('keeps a row for every action and every refusal: who, what, on what, from where, the result', async () => {
    await s.app.inject({
      method: 'POST',
      url: '/api/v1/deploy',
      headers: s.as('viewer'),
      payload: { stack: 'quickstart', environment: 'dev' },
    });
    await s.app.inject({
      method: 'POST',
      url: '/api/v1/deploy',
      headers: s.as('deployer'),
      payload: { stack: 'quickstart', environment: 'staging' },
    });
    await s.app.inject({ method: 'GET', url: '/api/v1/deployments', headers: { authorization: 'Bearer dpl_wrong' } });
    const entries = (await s.app.inject({ url: '/api/v1/audit?limit=3', headers: s.as('auditor') })).json().entries as Record<
      string,
      unknown
    >[];
    expect(entries.map((e) => [e.action, e.target, e.result, e.status, e.role, e.source])).toEqual([
      ['GET /api/v1/deployments', '', 'unauthenticated', 401, null, '127.0.0.1'],
      ['deploy', 'quickstart/staging', 'ok', 202, 'deployer', '127.0.0.1'],
      ['deploy', '', 'denied', 403, 'viewer', '127.0.0.1'],
    ]);
    expect(entries[1]!.actor).toMatch(/^tok_/);
    expect(entries[1]!.detail).toEqual({ run: expect.any(String) });
    expect(JSON.stringify(entries)).not.toMatch(/dpl_/);
  });

  it('reads no ordinary read as an action', async () => {
    const before = (await s.ledger.access().listAudit({ limit: 10000 })).length;
    await s.app.inject({ url: '/api/v1/deployments', headers: s.as('viewer') });
    expect((await s.ledger.access().listAudit({ limit: 10000 })).length).toBe(before);
  });
});

describe('personal data', () => {
  it('is redacted for every role but the auditor: initiators, e-mail addresses and secret-named metadata', async () => {
    const viewer = (await s.app.inject({ url: '/api/v1/deployments?service=web', headers: s.as('viewer') })).json().deployments[0];
    // A pseudonym: the same one for the same person, not who it is.
    expect(viewer.initiator).toMatch(/^person-[0-9a-f]{8}$/);
    const assets = (await s.app.inject({ url: '/api/v1/deployments?service=assets', headers: s.as('viewer') })).json().deployments[0];
    expect(assets.initiator).toBe(viewer.initiator);
    expect(viewer.metadata).toMatchObject({ note: 'shipped by [redacted e-mail]', api_token: '[redacted]' });
    const auditor = (await s.app.inject({ url: '/api/v1/deployments?service=web', headers: s.as('auditor') })).json().deployments[0];
    expect(auditor.initiator).toBe('alice@example.com');
    expect(auditor.metadata.api_token).toBe('hunter2');
    const rollbacks = (await s.app.inject({ url: '/api/v1/rollbacks', headers: s.as('admin') })).json().rollbacks;
    expect(rollbacks[0].reason).toBe('paged by [redacted e-mail]');
  });
});

describe('exports', () => {
  it('are the CLI export formats, redacted for every role but the auditor, and each is audited', async () => {
    const viewer = await s.app.inject({ url: '/api/v1/export?format=csv&service=web', headers: s.as('viewer') });
    expect(viewer.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(viewer.body).not.toContain('alice@example.com');
    expect(viewer.body).toContain('[redacted e-mail]');
    const auditor = await s.app.inject({ url: '/api/v1/export', headers: s.as('auditor') });
    expect(auditor.json().format).toBe('deployer-ledger');
    expect(JSON.stringify(auditor.json().deployments)).toContain('alice@example.com');
    const audit = await s.ledger.access().listAudit({ action: 'export', limit: 2 });
    expect(audit.map((a) => [a.role, a.target, a.detail])).toEqual([
      ['auditor', 'json', { redacted: false }],
      ['viewer', 'csv', { redacted: true }],
    ]);
    expect((await s.app.inject({ url: '/api/v1/export?format=pdf', headers: s.as('viewer') })).statusCode).toBe(400);
  });
});

describe('reading the ledger', () => {
  it('lists deployments with the filters of ledger list-deployments, and refuses a bad one naming it', async () => {
    const ids = async (q: string) =>
      (await s.app.inject({ url: `/api/v1/deployments?${q}`, headers: s.as('viewer') }))
        .json()
        .deployments.map((d: DeploymentEvent) => d.id);
    expect(await ids('service=assets')).toEqual(['d2']);
    expect(await ids('environment=production&status=success&limit=1')).toHaveLength(1);
    expect(await ids('from=2026-12-01T00:00:00Z')).toEqual([]);
    const bad = await s.app.inject({ url: '/api/v1/deployments?from=yesterday', headers: s.as('viewer') });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/from/);
    const badStatus = await s.app.inject({ url: '/api/v1/deployments?status=great', headers: s.as('viewer') });
    expect(badStatus.statusCode).toBe(400);
    expect(badStatus.json().error.message).toMatch(/status/);
  });

  it('shows one deployment with its components, the rest of its run and the rollbacks that undid it', async () => {
    const res = await s.app.inject({ url: '/api/v1/deployments/d1', headers: s.as('auditor') });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.components).toEqual([{ id: 'web/api', action: 'update', result: 'updated' }]);
    expect(body.run.map((d: DeploymentEvent) => d.id)).toEqual(['d2']);
    expect(body.rollbacks.map((r: { id: string }) => r.id)).toEqual(['r1']);
    const missing = await s.app.inject({ url: '/api/v1/deployments/nope', headers: s.as('viewer') });
    expect([missing.statusCode, missing.json().error.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('gives the five DORA metrics of a window, with their bands', async () => {
    const res = await s.app.inject({ url: '/api/v1/metrics?from=2026-10-15T00:00:00Z&to=2026-11-14T00:00:00Z', headers: s.as('viewer') });
    const { metrics } = res.json();
    expect(Object.keys(metrics).sort()).toEqual(['change-failure-rate', 'frequency', 'lead-time', 'mttr', 'success-rate']);
    expect(metrics['success-rate'][0]).toMatchObject({ group: 'all', value: 100, unit: 'percent' });
    expect(metrics.frequency[0]).toMatchObject({ counted: 2, band: expect.any(String) });
    const reversed = await s.app.inject({
      url: '/api/v1/metrics?from=2026-11-14T00:00:00Z&to=2026-10-15T00:00:00Z',
      headers: s.as('viewer'),
    });
    expect(reversed.statusCode).toBe(400);
  });

  it("lists the served stacks with each environment, its lock and its last drift report (the newest cycle's services summed)", async () => {
    const drift = (id: string, service: string, parentId: string, started: string, d: Record<string, unknown>): DeploymentEvent =>
      deployment({
        id,
        service,
        parentId,
        started,
        completed: started,
        environment: 'dev',
        type: 'drift',
        operation: 'drift',
        metadata: { operation: 'drift', drift: d },
      });
    await s.ledger.recordMany({
      deployments: [
        drift('c1-web', 'web', 'cycle-1', '2026-11-02T06:00:00.000Z', {
          cycle: 'drift',
          components: 2,
          drifted: 2,
          findings: 5,
          critical: 1,
        }),
        drift('c2-web', 'web', 'cycle-2', '2026-11-03T06:00:00.000Z', {
          cycle: 'drift',
          components: 2,
          drifted: 1,
          findings: 2,
          critical: 0,
        }),
        // A record written before `drifted` was kept: its findings name the components.
        drift('c2-data', 'data', 'cycle-2', '2026-11-03T06:00:00.000Z', {
          cycle: 'drift',
          components: 1,
          findings: 1,
          critical: 1,
          report: [{ component: 'data/db' }],
        }),
      ],
    });
    const { stacks } = (await s.app.inject({ url: '/api/v1/stacks', headers: s.as('viewer') })).json();
    expect(stacks).toEqual([
      {
        name: 'quickstart',
        environments: [
          {
            name: 'dev',
            lock: null,
            drift: {
              at: '2026-11-03T06:00:00.000Z',
              cycle: 'drift',
              components: 3,
              drifted: 2,
              findings: 3,
              critical: 1,
              services: [
                { service: 'data', drift: expect.objectContaining({ findings: 1 }) },
                { service: 'web', drift: expect.objectContaining({ drifted: 1 }) },
              ],
            },
          },
          { name: 'staging', lock: null, drift: null },
        ],
      },
    ]);
    const metrics = (await s.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('deployer_drift_components{stack="quickstart",environment="dev"} 2');
  });
});

describe('the OpenAPI document', () => {
  it('is OpenAPI 3, generated from the routes, with every API route and its schemas', async () => {
    const doc = (await s.app.inject({ url: '/openapi.json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const route of ROUTES) {
      const p = route.url
        .replace('/d1', '/{id}')
        .replace('/none', '/{deploymentId}')
        .replace('stack:quickstart:env:dev', '{key}')
        .replace('tok_none', '{id}');
      expect(doc.paths[p]?.[route.method.toLowerCase()], `${route.method} ${p}`).toBeDefined();
    }
    expect(doc.paths['/api/v1/deploy'].post.requestBody.content['application/json'].schema.required).toEqual(['stack', 'environment']);
    expect(doc.paths['/api/v1/deployments'].get.parameters.map((x: { name: string }) => x.name)).toContain('environment');
  });
});

describe('errors', () => {
  it('answer JSON with a code: an unknown route, a bad body, an unknown stack', async () => {
    const unknown = await s.app.inject({ url: '/api/v1/nothing', headers: s.as('viewer') });
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, 'NOT_FOUND']);
    const badBody = await s.app.inject({
      method: 'POST',
      url: '/api/v1/deploy',
      headers: s.as('deployer'),
      payload: { stack: 'quickstart' },
    });
    expect(badBody.statusCode).toBe(400);
    expect(badBody.json().error.message).toMatch(/environment/);
    const noStack = await s.app.inject({
      method: 'POST',
      url: '/api/v1/deploy',
      headers: s.as('deployer'),
      payload: { stack: 'shop', environment: 'dev' },
    });
    expect(noStack.statusCode).toBe(400);
    expect(noStack.json().error).toMatchObject({ message: 'no stack shop is served here', details: ['served: quickstart'] });
    const noEnv = await s.app.inject({
      method: 'POST',
      url: '/api/v1/deploy',
      headers: s.as('deployer'),
      payload: { stack: 'quickstart', environment: 'prod' },
    });
    expect(noEnv.json().error.details).toEqual(['its environments: dev, staging']);
  });
});

/**
 * The generic JSON receivers (`POST /webhooks/<name>`): a deployment and a rollback recorded as
 * `ledger record-deployment` / `record-rollback` would record them, an id given updating the same
 * record; bad input refused naming the body's field with nothing written; an unknown receiver and
 * a missing delivery id refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { testServer, type TestServer } from '../../../test/helpers/server.js';
import { send } from '../../../test/helpers/webhooks.js';

const SECRET = 'argo-secret';
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(): Promise<TestServer> {
  server = await testServer({ webhooks: { generic: { argo: SECRET, 'other-ci': 'x' } } });
  return server;
}

const deployment = {
  type: 'deployment',
  id: 'argo-1',
  service: 'api',
  version: '2.3.0',
  environment: 'production',
  deploymentType: 'canary',
  canaryPercentage: 10,
  started: '2026-03-01T10:00:00+01:00',
  status: 'in-progress',
  metadata: { pipeline: 'argo/api', attempt: 2 },
};

const rollback = {
  type: 'rollback',
  service: 'api',
  environment: 'production',
  fromVersion: '2.3.0',
  toVersion: '2.2.9',
  reason: 'latency',
  timestamp: '2026-03-01T12:00:00Z',
  deployment: 'argo-1',
};

describe('generic receivers', () => {
  it('records a deployment, then its completion under the same id, and a rollback', async () => {
    const { app, ledger } = await start();
    const r = await send(app, '/webhooks/argo', deployment, { secret: SECRET });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ ok: true, duplicate: false, result: 'recorded', event: 'generic', deployments: ['argo-1'] });
    expect(await ledger.listDeployments()).toEqual([
      {
        id: 'argo-1',
        stack: '',
        service: 'api',
        version: '2.3.0',
        environment: 'production',
        type: 'canary',
        started: '2026-03-01T09:00:00.000Z',
        completed: null,
        status: 'in-progress',
        initiator: 'webhook:argo',
        metadata: { pipeline: 'argo/api', attempt: 2, source: 'external', canary_percentage: 10, webhook: 'argo' },
        parentId: null,
      },
    ]);
    await send(app, '/webhooks/argo', { ...deployment, status: 'success', completed: '2026-03-01T09:20:00Z' }, { secret: SECRET });
    expect(await ledger.listDeployments()).toMatchObject([{ id: 'argo-1', status: 'success', completed: '2026-03-01T09:20:00.000Z' }]);
    const rb = await send(app, '/webhooks/argo', rollback, { secret: SECRET });
    expect(rb.json().rollbacks).toHaveLength(1);
    expect(await ledger.listRollbacks()).toMatchObject([
      { service: 'api', fromVersion: '2.3.0', toVersion: '2.2.9', reason: 'latency', deploymentId: 'argo-1' },
    ]);
  });

  it.each([
    [{ ...deployment, service: undefined }, 'service is required'],
    [{ ...deployment, deploymentType: 'yolo' }, 'deploymentType "yolo" is not one of blue-green, canary, rolling, big-bang'],
    [{ ...deployment, started: 'now' }, 'started "now" is not an ISO 8601 time with a zone'],
    [{ ...deployment, status: 'success' }, 'completed is required for a deployment whose status is success'],
    [{ ...deployment, canaryPercentage: 120 }, 'canaryPercentage 120 is not a number from 0 to 100'],
    [{ ...deployment, version: 3 }, 'version is not a string'],
    [{ ...deployment, enviroment: 'prod' }, 'enviroment is not a field of a deployment'],
    [{ ...deployment, metadata: ['a'] }, 'metadata is not an object'],
    [{ ...deployment, metadata: { nested: { a: 1 } } }, 'metadata.nested is not a string, number or boolean'],
    [{ ...rollback, fromVersion: '' }, 'fromVersion is required'],
    [{ ...rollback, timestamp: '2026-03-01' }, 'timestamp "2026-03-01" is not an ISO 8601 time with a zone'],
    [{ ...rollback, type: 'deploy' }, 'type "deploy" is not deployment or rollback'],
    [{ service: 'api' }, 'type null is not deployment or rollback'],
  ])('refuses bad input naming the field, writing nothing (%#)', async (body, message) => {
    const { app, ledger } = await start();
    const r = await send(app, '/webhooks/argo', body, { secret: SECRET });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toMatchObject({ code: 'INVALID_INPUT', message });
    expect(await ledger.listDeployments()).toEqual([]);
    expect(await ledger.listRollbacks()).toEqual([]);
  });

  it("takes a type the ledger has registered, and checks each receiver's own secret", async () => {
    const { app, ledger } = await start();
    await ledger.registerType('shadow', 'mirrored traffic');
    expect((await send(app, '/webhooks/argo', { ...deployment, deploymentType: 'shadow' }, { secret: SECRET })).statusCode).toBe(200);
    expect((await send(app, '/webhooks/other-ci', deployment, { secret: SECRET })).statusCode).toBe(401);
  });

  it('answers 404 for a receiver that is not configured, even to a prototype name', async () => {
    const { app } = await start();
    for (const name of ['jenkins', 'constructor', '__proto__']) {
      const r = await send(app, `/webhooks/${name}`, deployment, { secret: SECRET });
      expect(r.statusCode).toBe(404);
    }
    const r = await send(app, '/webhooks/jenkins', deployment, { secret: SECRET });
    expect(r.json().error.message).toBe('no webhook receiver jenkins (its secret is set in DEPLOYER_WEBHOOK_SECRET_JENKINS)');
  });

  it('requires X-Delivery-Id', async () => {
    const { app, ledger } = await start();
    const r = await send(app, '/webhooks/argo', deployment, { secret: SECRET, delivery: '' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toMatch(/X-Delivery-Id header is required/);
    expect(await ledger.listDeployments()).toEqual([]);
  });

  it('accepts a JSON content type with a charset', async () => {
    const { app } = await start();
    expect(
      (await send(app, '/webhooks/argo', rollback, { secret: SECRET, contentType: 'application/json; charset=utf-8' })).statusCode,
    ).toBe(200);
  });
});

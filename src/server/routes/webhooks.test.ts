/**
 * The webhook receivers' envelope, through `inject`: signatures (good, altered, missing, of the
 * wrong length or shape, with another secret), a receiver without a secret, the content type,
 * the delivery id, the body limit, unknown events, and idempotency: a replay and 20 concurrent
 * identical deliveries record once, and a delivery whose processing failed is processed when
 * sent again. Every request leaves an audit row without the signature.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LedgerStore } from '../../ledger/index.js';
import { testServer, type TestServer } from '../../../test/helpers/server.js';
import { deploymentPayload, github, GITHUB_SECRET, pushPayload, ROLLBACK, send, sha } from '../../../test/helpers/webhooks.js';
import { signBody } from '../webhooks/signature.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(o: { bodyLimit?: number; ledger?: LedgerStore; github?: string | null } = {}): Promise<TestServer> {
  server = await testServer({
    webhooks: { ...(o.github === null ? {} : { github: o.github ?? GITHUB_SECRET }), generic: { jenkins: 'jenkins-secret' } },
    ...(o.bodyLimit ? { bodyLimit: o.bodyLimit } : {}),
    ...(o.ledger ? { ledger: o.ledger } : {}),
  });
  return server;
}

describe('signatures', () => {
  it('accepts a delivery signed with the secret over the exact bytes sent', async () => {
    const { app } = await start();
    // Bytes that JSON.stringify(JSON.parse(...)) would change: the HMAC must be over these, not a re-serialization.
    const raw = `{ "ref":"refs/tags/v1" ,\n "repository": {"name":"x","clone_url":"https://github.com/o/x.git"}, "note":"\\u00e9" }`;
    const r = await github(app, 'push', raw);
    expect(r.statusCode).toBe(202);
    expect(r.json()).toMatchObject({ ok: true, result: 'ignored', note: 'refs/tags/v1 is not a branch: nothing to record' });
  });

  it.each([
    ['a signature of other bytes', signBody(GITHUB_SECRET, '{}')],
    ['a signature with another secret', undefined],
    ['no signature', null],
    ['a signature too short', `sha256=${'ab'.repeat(31)}`],
    ['a signature too long', `sha256=${'ab'.repeat(33)}`],
    ['a digest that is not hex', `sha256=${'zz'.repeat(32)}`],
    ['the sha1 scheme', `sha1=${'ab'.repeat(20)}`],
    ['a bare digest', 'ab'.repeat(32)],
  ])('answers 401 to %s, writing nothing', async (_what, signature) => {
    const { app, ledger } = await start();
    const body = deploymentPayload();
    const r = await github(app, 'deployment', body, signature === undefined ? { secret: 'another secret' } : { signature });
    expect(r.statusCode).toBe(401);
    expect(r.json().error).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(r.body).not.toContain(GITHUB_SECRET);
    expect(await ledger.listDeployments()).toEqual([]);
  });

  it('answers 401 when one byte of a signed body is changed', async () => {
    const { app } = await start();
    const body = JSON.stringify(deploymentPayload());
    const r = await github(app, 'deployment', body.replace('production', 'productiom'), { signature: signBody(GITHUB_SECRET, body) });
    expect(r.statusCode).toBe(401);
  });

  it('never accepts a delivery when no GitHub secret is configured, signed or not', async () => {
    const { app, ledger } = await start({ github: null });
    for (const signature of [null, signBody('', '{}')]) {
      const r = await github(app, 'deployment', deploymentPayload(), { signature });
      expect(r.statusCode).toBe(404);
      expect(r.json().error.message).toMatch(/no secret is configured \(DEPLOYER_GITHUB_WEBHOOK_SECRET\)/);
    }
    expect(await ledger.listDeployments()).toEqual([]);
  });
});

describe('the envelope', () => {
  it('answers 415 to a signed body that is not JSON (a hook set to form encoding)', async () => {
    const { app } = await start();
    const r = await github(app, 'push', 'payload=%7B%7D', { contentType: 'application/x-www-form-urlencoded' });
    expect(r.statusCode).toBe(415);
    expect(r.json().error.message).toMatch(/application\/json/);
  });

  it('answers 400 to a signed body that does not parse, or is not an object', async () => {
    const { app } = await start();
    expect((await github(app, 'push', '{"ref":')).statusCode).toBe(400);
    expect((await github(app, 'push', '[1,2]')).json().error.message).toBe('the body is not a JSON object');
  });

  it('requires the delivery id, which makes processing idempotent', async () => {
    const { app } = await start();
    const r = await app.inject({
      method: 'POST',
      url: '/webhooks/github',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signBody(GITHUB_SECRET, '{}') },
      payload: '{}',
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toMatch(/X-GitHub-Delivery header is required/);
    expect((await github(app, 'push', '{}', { delivery: 'x'.repeat(201) })).statusCode).toBe(400);
  });

  it('answers 413 beyond the body limit, before reading the body, and takes a body just within it', async () => {
    const { app } = await start({ bodyLimit: 4096 });
    const within = JSON.stringify({ ref: 'refs/tags/t', pad: 'x'.repeat(4096 - 30) });
    expect(Buffer.byteLength(within)).toBeLessThanOrEqual(4096);
    expect((await github(app, 'push', within)).statusCode).toBe(202);
    const beyond = JSON.stringify({ ref: 'refs/tags/t', pad: 'x'.repeat(5000) });
    const r = await github(app, 'push', beyond);
    expect(r.statusCode).toBe(413);
    expect(r.json().error.code).toBe('INVALID_INPUT');
    const [row] = await server!.ledger.access().listAudit({ action: 'webhook' });
    expect(row).toMatchObject({ actor: 'webhook:github', target: 'github', status: 413, result: 'invalid' });
  });

  it('answers 202 to an event it records nothing of, and 200 to GitHub ping', async () => {
    const { app, ledger } = await start();
    const r = await github(app, 'issues', { action: 'opened', repository: {} });
    expect(r.statusCode).toBe(202);
    expect(r.json()).toMatchObject({ ok: true, result: 'ignored', event: 'issues' });
    const ping = await github(app, 'ping', { zen: 'Keep it logically awesome.', hook_id: 42 });
    expect(ping.statusCode).toBe(200);
    expect(ping.json()).toMatchObject({ result: 'ignored', note: 'pong' });
    expect(await ledger.listDeployments()).toEqual([]);
  });

  it('is public to tokens: a webhook needs its signature, not a bearer token', async () => {
    const { app } = await start();
    const r = await app.inject({ method: 'POST', url: '/webhooks/github', headers: { authorization: 'Bearer nonsense' }, payload: {} });
    expect(r.statusCode).toBe(401);
    expect(r.json().error.message).toMatch(/X-Hub-Signature-256/);
  });
});

describe('idempotency', () => {
  it('answers a replay 200 {duplicate: true} and records once', async () => {
    const { app, ledger } = await start();
    const first = await send(app, '/webhooks/jenkins', ROLLBACK, { secret: 'jenkins-secret', delivery: 'd-1' });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ duplicate: false, result: 'recorded' });
    const again = await send(app, '/webhooks/jenkins', ROLLBACK, { secret: 'jenkins-secret', delivery: 'd-1' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ ok: true, duplicate: true });
    expect(await ledger.listRollbacks()).toHaveLength(1);
    // Another delivery of the same content is another event.
    await send(app, '/webhooks/jenkins', ROLLBACK, { secret: 'jenkins-secret', delivery: 'd-2' });
    expect(await ledger.listRollbacks()).toHaveLength(2);
  });

  it('records 20 concurrent identical deliveries once, and answers the 19 others as duplicates', async () => {
    const { app, ledger } = await start();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => send(app, '/webhooks/jenkins', ROLLBACK, { secret: 'jenkins-secret', delivery: 'same' })),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(200));
    expect(answers.filter((a) => a.json().duplicate === true)).toHaveLength(19);
    expect(await ledger.listRollbacks()).toHaveLength(1);
  });

  it('keys deliveries by hook as well: the same delivery id from another hook is processed', async () => {
    const { app, ledger } = await start();
    const body = pushPayload([{ id: sha(1), timestamp: '2026-03-01T09:00:00Z' }]);
    expect((await github(app, 'push', body, { delivery: 'd', hook: '1' })).json().duplicate).toBe(false);
    expect((await github(app, 'push', body, { delivery: 'd', hook: '1' })).json().duplicate).toBe(true);
    expect((await github(app, 'push', body, { delivery: 'd', hook: '2' })).json().duplicate).toBe(false);
    expect(await ledger.pendingChanges('https://github.com/octocat/Hello-World.git')).toHaveLength(1);
  });

  it('releases a delivery whose processing failed, so that its redelivery is processed', async () => {
    const { app, ledger } = await start();
    const bad = deploymentPayload({ ...deploymentPayloadDeployment(), payload: { type: 'shadow' } });
    const r = await github(app, 'deployment', bad, { delivery: 'retry-me' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toMatch(/^deployment\.payload\.type "shadow" is not one of/);
    await ledger.registerType('shadow', 'a copy that takes mirrored traffic');
    const again = await github(app, 'deployment', bad, { delivery: 'retry-me' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ duplicate: false, deployments: ['github-deployment-101'] });
    expect((await ledger.listDeployments())[0]).toMatchObject({ type: 'shadow' });
  });

  it('releases the claim when the ledger fails, and answers 500', async () => {
    const { app, ledger } = await start();
    const recordRollback = ledger.recordRollback.bind(ledger);
    let fail = true;
    ledger.recordRollback = async (e) => {
      if (fail) throw new Error('disk on fire');
      return recordRollback(e);
    };
    expect((await send(app, '/webhooks/jenkins', ROLLBACK, { secret: 'jenkins-secret', delivery: 'x' })).statusCode).toBe(500);
    fail = false;
    expect((await send(app, '/webhooks/jenkins', ROLLBACK, { secret: 'jenkins-secret', delivery: 'x' })).json().duplicate).toBe(false);
    expect(await ledger.listRollbacks()).toHaveLength(1);
  });
});

describe('the audit log', () => {
  it('keeps a row per delivery naming the receiver, event, delivery and result, never the signature', async () => {
    const { app, ledger } = await start();
    const body = deploymentPayload();
    const signature = signBody(GITHUB_SECRET, JSON.stringify(body));
    await github(app, 'deployment', body, { delivery: 'a-1' });
    await github(app, 'deployment', body, { delivery: 'a-1' });
    await github(app, 'deployment', body, { delivery: 'a-2', signature: signBody('wrong', 'x') });
    await github(app, 'issues', {}, { delivery: 'a-3' });
    await send(app, '/webhooks/nobody', ROLLBACK, { delivery: 'a-4' });
    const rows = (await ledger.access().listAudit({ action: 'webhook' })).reverse();
    expect(rows.map((r) => [r.actor, r.target, r.status, r.result, r.detail])).toEqual([
      ['webhook:github', 'github', 200, 'ok', { event: 'deployment', delivery: 'a-1', result: 'recorded' }],
      ['webhook:github', 'github', 200, 'ok', { event: 'deployment', delivery: 'a-1', result: 'duplicate' }],
      ['webhook:github', 'github', 401, 'unauthenticated', { event: 'deployment', delivery: 'a-2', result: 'bad-signature' }],
      ['webhook:github', 'github', 202, 'ok', { event: 'issues', delivery: 'a-3', result: 'ignored' }],
      ['webhook:nobody', 'nobody', 404, 'invalid', { event: 'generic', delivery: 'a-4', result: 'no-receiver' }],
    ]);
    expect(JSON.stringify(rows)).not.toContain(signature.slice(7));
    expect(JSON.stringify(rows)).not.toContain(GITHUB_SECRET);
  });

  it('keeps the error code of a delivery refused for its content', async () => {
    const { app, ledger } = await start();
    await send(app, '/webhooks/jenkins', { type: 'rollback' }, { secret: 'jenkins-secret', delivery: 'bad' });
    const [row] = await ledger.access().listAudit({ action: 'webhook' });
    expect(row).toMatchObject({
      status: 400,
      result: 'invalid',
      detail: { event: 'generic', delivery: 'bad', result: 'failed', code: 'INVALID_INPUT' },
    });
  });
});

function deploymentPayloadDeployment(): Record<string, unknown> {
  return deploymentPayload().deployment as Record<string, unknown>;
}

/**
 * What a careful operator relies on beyond the role matrix: a server without authentication
 * answers only its own machine, an admin cannot mint an auditor, viewers see pseudonyms in runs,
 * a stopping server starts nothing, a run refused before its plan is answered with why, caller
 * metadata cannot overwrite the run's own, and every route must say who may use it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { instantRun, testServer, type TestServer } from '../../test/helpers/server.js';
import { MemoryLedger } from '../ledger/memory.js';
import { buildServer } from './app.js';
import { RunManager, type RunRequest, type RunView } from './runs.js';
import { StackCatalog } from './stacks.js';

let s: TestServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const deploy = (server: TestServer, headers: Record<string, string>, metadata?: Record<string, string>) =>
  server.app.inject({
    method: 'POST',
    url: '/api/v1/deploy',
    headers,
    payload: { stack: 'quickstart', environment: 'dev', ...(metadata ? { metadata } : {}) },
  });

describe('--insecure-local', () => {
  it('answers only requests addressed to this machine (a DNS-rebinding page names a host of its own)', async () => {
    s = await testServer({ workflow: instantRun(), auth: { insecureLocal: true } });
    const local = await deploy(s, { host: 'localhost:7070' });
    expect(local.statusCode).toBe(202);
    expect((await deploy(s, { host: '127.0.0.1:7070' })).statusCode).toBe(202);
    const rebound = await deploy(s, { host: 'attacker.example:7070' });
    expect(rebound.statusCode).toBe(403);
    expect(rebound.json().error.message).toMatch(/only requests to localhost, not to attacker\.example:7070/);
  });
});

describe('behind a reverse proxy', () => {
  it('the client is the address the trusted proxy forwards: each client has its own failure limit and audit source', async () => {
    s = await testServer({ trustProxy: ['127.0.0.1'], auth: { failureLimit: { attempts: 2, windowMs: 60_000 } } });
    const server = s;
    const from = (client: string, token = 'dpl_wrong') =>
      server.app.inject({ url: '/api/v1/stacks', headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': client } });
    await from('203.0.113.7');
    await from('203.0.113.7');
    expect((await from('203.0.113.7', server.tokens.viewer)).statusCode).toBe(429);
    // Another client behind the same proxy is not locked out by the first one's failures.
    expect((await from('198.51.100.2', server.tokens.viewer)).statusCode).toBe(200);
    const audit = await server.ledger.access().listAudit({ limit: 1 });
    expect(audit[0]).toMatchObject({ source: '203.0.113.7', result: 'unauthenticated' });
  });

  it('without --trust-proxy, a forwarded address is not believed', async () => {
    s = await testServer({ auth: { failureLimit: { attempts: 1, windowMs: 60_000 } } });
    const server = s;
    await server.app.inject({ url: '/api/v1/stacks', headers: { authorization: 'Bearer dpl_wrong', 'x-forwarded-for': '203.0.113.7' } });
    const other = await server.app.inject({
      url: '/api/v1/stacks',
      headers: { authorization: `Bearer ${server.tokens.viewer}`, 'x-forwarded-for': '198.51.100.2' },
    });
    expect(other.statusCode).toBe(429);
  });
});

describe('tokens', () => {
  it('an admin may create tokens, but not an auditor one: the auditor watches the admins', async () => {
    s = await testServer();
    const viewer = await s.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: s.as('admin'),
      payload: { name: 'ci', role: 'viewer' },
    });
    expect(viewer.statusCode).toBe(201);
    const auditor = await s.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: s.as('admin'),
      payload: { name: 'me', role: 'auditor' },
    });
    expect(auditor.statusCode).toBe(403);
    expect(auditor.json().error.message).toMatch(/deployer token create --role auditor/);
  });
});

describe('runs as viewers see them', () => {
  it('name who started them and who held the lock by pseudonyms; the auditor sees who', async () => {
    s = await testServer({ workflow: instantRun() });
    const started = await deploy(s, s.as('deployer'));
    const id = started.json().run.id;
    await s.runs.settled(id);
    const viewed = (await s.app.inject({ url: `/api/v1/runs/${id}`, headers: s.as('viewer') })).json();
    expect(viewed.initiator).toMatch(/^person-[0-9a-f]{8}$/);
    expect(started.json().run.initiator).toBe(viewed.initiator);
    expect((await s.app.inject({ url: '/api/v1/runs', headers: s.as('viewer') })).json().runs[0].initiator).toBe(viewed.initiator);
    expect((await s.app.inject({ url: `/api/v1/runs/${id}`, headers: s.as('auditor') })).json().initiator).toMatch(
      /^tok_[0-9a-f]+ via deployer serve$/,
    );
    const events = (await s.app.inject({ url: `/api/v1/runs/${id}/events`, headers: s.as('viewer') })).body;
    expect(events).not.toContain('alice@laptop');
    expect(events).not.toContain('via deployer serve');
    expect(events).toMatch(/"lockedBy":"person-[0-9a-f]{8}"/);
    expect((await s.app.inject({ url: `/api/v1/runs/${id}/events`, headers: s.as('auditor') })).body).toContain('alice@laptop');
  });
});

describe('starting runs', () => {
  it('a stopping server starts none (503)', async () => {
    s = await testServer({ workflow: instantRun() });
    await s.runs.close(0);
    const res = await deploy(s, s.as('deployer'));
    expect(res.statusCode).toBe(503);
    expect(res.json().error.message).toBe('the server is stopping: it starts no new run');
  });

  it('a run that fails before its plan is answered with why, and no run is kept', async () => {
    s = await testServer({
      workflow: async () => {
        throw new TypeError('x is not a function');
      },
    });
    const res = await deploy(s, s.as('deployer'));
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('INTERNAL');
    expect(res.json().error.details.join(' ')).toMatch(/report it/);
    expect(s.runs.list()).toEqual([]);
  });

  it("refuses caller metadata that would overwrite the run's own, or is not a plain key", async () => {
    s = await testServer({ workflow: instantRun() });
    const reserved = await deploy(s, s.as('deployer'), { operation: 'destroy' });
    expect([reserved.statusCode, reserved.json().error.message]).toEqual([
      400,
      'metadata key operation is written by the run itself: choose another name',
    ]);
    const odd = await deploy(s, s.as('deployer'), { 'Git Commit': 'x' });
    expect(odd.json().error.message).toMatch(/metadata key "Git Commit"/);
    expect((await deploy(s, s.as('deployer'), { git_commit: 'abc', ci_run_id: '7' })).statusCode).toBe(202);
  });

  it('tells who watches runs how each ended, once, with the request that asked for it', async () => {
    const ended: [RunView, RunRequest][] = [];
    const runs = new RunManager(instantRun(), undefined, (run, request) => void ended.push([run, request]));
    const catalog = await StackCatalog.load([(await import('../../test/helpers/server.js')).QUICKSTART]);
    const request: RunRequest = {
      kind: 'deploy',
      stack: 'quickstart',
      environment: 'dev',
      settings: catalog.settings(catalog.stacks[0]!, 'dev'),
      initiator: 'me',
      actor: { actor: 'tok_1', role: 'deployer', source: '10.0.0.1' },
      metadata: {},
    };
    const started = await runs.start(request);
    if (!('started' in started)) throw new Error('not started');
    await runs.settled(started.started.id);
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended.map(([run, req]) => [run.status, req.actor?.actor])).toEqual([['succeeded', 'tok_1']]);
  });
});

describe('routes', () => {
  it('every route must say who may use it: one that does not is refused when it is added', async () => {
    const ledger = new MemoryLedger();
    const catalog = await StackCatalog.load([(await import('../../test/helpers/server.js')).QUICKSTART]);
    const app = await buildServer(
      { ledger, access: ledger.access(), catalog, runs: new RunManager(), webhooks: {}, ready: () => true },
      { auth: { insecureLocal: false } },
    );
    expect(() => app.get('/api/v1/open', () => 'everyone')).toThrow(/declares no permission/);
    await app.close();
    await ledger.close();
  });
});

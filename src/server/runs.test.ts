/**
 * Runs started through the API: the real apply and rollback workflows over memory stores and
 * a scripted engine (no Pulumi here; test/e2e/dashboard.test.ts runs the real engine), so that
 * the lock decides who runs, the ledger records what ran, and the event stream shows it.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeEngine, fakeTarget } from '../../test/helpers/fake-engine.js';
import { testServer, type TestServer } from '../../test/helpers/server.js';
import { MemoryLedger } from '../ledger/memory.js';
import { openLockManager } from '../lock/index.js';
import { MemoryLockManager } from '../lock/memory.js';
import { MemoryStateStore } from '../state/memory.js';
import { applyStack } from '../workflows/apply.js';
import { rollbackToVersion } from '../workflows/rollback.js';
import type { RunWorkflow } from './runs.js';

let s: TestServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

/** A server whose runs are the real workflows over one memory world; `hold` keeps the next `up` of web/api waiting. */
async function world() {
  const ledger = new MemoryLedger();
  const store = new MemoryStateStore();
  const locks = new MemoryLockManager();
  let release: () => void = () => undefined;
  let holding: Promise<void> | undefined;
  const engine = new FakeEngine((op, id) => {
    if (op === 'up' && id === 'web/assets') return { outputs: { path: '/nonexistent/assets', url: 'file:///nonexistent/assets' } };
    return op === 'up' && id === 'web/api' && holding ? { gate: holding } : undefined;
  });
  const workflow: RunWorkflow = (request, ctx) => {
    const c = {
      ...ctx,
      dependencies: { store, locks, target: fakeTarget, openLedger: () => new MemoryLedger(ledger.records), engine: async () => engine },
    };
    return request.kind === 'deploy' ? applyStack(c) : rollbackToVersion(c, request.to ?? 'last-good');
  };
  s = await testServer({ ledger, workflow });
  const server = s;
  return {
    s: server,
    store,
    engine,
    hold: () => {
      holding = new Promise<void>((r) => (release = r));
    },
    release: () => {
      holding = undefined;
      release();
    },
    deploy: (environment = 'dev', role: 'deployer' | 'viewer' = 'deployer') =>
      server.app.inject({
        method: 'POST',
        url: '/api/v1/deploy',
        headers: server.as(role),
        payload: { stack: 'quickstart', environment, metadata: { git_commit: 'abc123' } },
      }),
  };
}

describe('POST /api/v1/deploy', () => {
  it('answers 202 with the run and its status URL, and the run deploys what the stack says', async () => {
    const w = await world();
    const res = await w.deploy();
    expect(res.statusCode).toBe(202);
    const { run, links } = res.json();
    expect(res.headers.location).toBe(`/api/v1/runs/${run.id}`);
    expect(links).toEqual({ self: `/api/v1/runs/${run.id}`, events: `/api/v1/runs/${run.id}/events` });
    expect(run).toMatchObject({ kind: 'deploy', stack: 'quickstart', environment: 'dev', status: 'running' });
    const ended = await w.s.runs.settled(run.id);
    expect(ended).toMatchObject({ status: 'succeeded', error: null });
    const view = (await w.s.app.inject({ url: links.self, headers: w.s.as('viewer') })).json();
    expect(view.status).toBe('succeeded');
    expect(view.summary.ok).toBe(true);
    expect(view.summary.components.map((c: { id: string; result: string }) => `${c.id} ${c.result}`).sort()).toEqual([
      'web/api created',
      'web/assets created',
    ]);
    const deployments = await w.s.ledger.listDeployments({ stack: 'quickstart' });
    expect(deployments.map((d) => [d.service, d.status, d.metadata['git_commit'], d.metadata['source']])).toEqual([
      ['web', 'success', 'abc123', 'api'],
    ]);
    expect(deployments[0]!.initiator).toMatch(/^tok_[0-9a-f]+ via deployer serve$/);
    expect(deployments[0]!.parentId).toBe(view.ledgerRunId);
  });

  it('answers 409 with the holder while another run holds the lock, and the first run is unharmed', async () => {
    const w = await world();
    w.hold();
    const first = (await w.deploy()).json().run;
    const second = await w.deploy();
    expect(second.statusCode).toBe(409);
    expect(second.json().error.code).toBe('LOCK_HELD');
    expect(second.json().holder).toMatchObject({
      lockKey: 'stack:quickstart:env:dev',
      metadata: expect.objectContaining({ operation: 'apply' }),
      expired: false,
    });
    // Another environment is another lock.
    const staging = await w.deploy('staging');
    expect(staging.statusCode).toBe(202);
    w.release();
    expect((await w.s.runs.settled(first.id))!.status).toBe('succeeded');
    expect((await w.s.runs.settled(staging.json().run.id))!.status).toBe('succeeded');
    const audit = await w.s.ledger.access().listAudit({ action: 'deploy' });
    expect(audit.map((a) => a.result)).toEqual(['ok', 'conflict', 'ok']);
  });

  it('streams the run as server-sent events: those so far, each one as it comes, then the run at its end', async () => {
    const w = await world();
    w.hold();
    const { run, links } = (await w.deploy()).json();
    const streamed = w.s.app.inject({ url: links.events, headers: w.s.as('viewer') });
    // The stream is open while web/api waits; releasing it lets the run, and the stream, end.
    await new Promise<void>((resolve) => {
      const unsubscribe = w.s.runs.subscribe(run.id, (e) => e?.type === 'component-start' && e.id === 'web/api' && resolve());
      void unsubscribe;
    });
    w.release();
    const res = await streamed;
    expect(res.headers['content-type']).toBe('text/event-stream');
    const events = res.body
      .trim()
      .split('\n\n')
      .map((block) => {
        const [event, data] = block.split('\n');
        return { type: event!.replace('event: ', ''), data: JSON.parse(data!.replace('data: ', '')) };
      });
    const types = events.map((e) => e.type);
    expect(types.slice(0, 2)).toEqual(['lock-acquired', 'plan']);
    expect(types.filter((t) => t === 'component-done')).toHaveLength(2);
    // The run's summary, then its lock released (the audit trail's last record), then the stream's end.
    expect(types.slice(-3)).toEqual(['summary', 'lock-released', 'end']);
    expect(events.at(-1)!.data).toMatchObject({ id: run.id, status: 'succeeded' });
    // After the end, the whole stream is replayed at once.
    const again = await w.s.app.inject({ url: links.events, headers: w.s.as('viewer') });
    expect(again.body.split('\n\n').filter(Boolean)).toHaveLength(events.length);
    expect((await w.s.app.inject({ url: '/api/v1/runs/none/events', headers: w.s.as('viewer') })).statusCode).toBe(404);
  });

  it('refuses an invalid stack with 422 and its problems, before anything is locked or recorded', async () => {
    const w = await world();
    appendFileSync(path.join(w.s.dir, 'services', 'web', 'api.yaml'), '  port: "not a port"\n');
    const res = await w.deploy();
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(res.json().error.details.join('\n')).toMatch(/api\.yaml:\d+:\d+/);
    expect(await w.s.ledger.listDeployments()).toEqual([]);
    expect(w.s.runs.list()).toEqual([]);
  });

  it('refuses a saved plan the state has moved past (409), or one that is no plan (400)', async () => {
    const w = await world();
    const plan = {
      format: 'deployer-plan/v1',
      configHash: 'x',
      plan: { stack: 'quickstart', environment: 'dev', lineage: 'other', serial: 7, actions: [] },
    };
    const stale = await w.s.app.inject({
      method: 'POST',
      url: '/api/v1/deploy',
      headers: w.s.as('deployer'),
      payload: { stack: 'quickstart', environment: 'dev', plan },
    });
    expect([stale.statusCode, stale.json().error.code]).toEqual([409, 'STALE_PLAN']);
    expect(stale.json().error.message).toMatch(/the plan in the request/);
    expect(w.engine.calls).toEqual([]);
    const damaged = await w.s.app.inject({
      method: 'POST',
      url: '/api/v1/deploy',
      headers: w.s.as('deployer'),
      payload: { stack: 'quickstart', environment: 'dev', plan: { format: 'x' } },
    });
    expect(damaged.statusCode).toBe(400);
    expect(damaged.json().error.message).toMatch(/deployer-plan\/v1/);
  });
});

describe('POST /api/v1/deploy {ref}', () => {
  const git = (dir: string, ...args: string[]): string =>
    execFileSync('git', ['-C', dir, '-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], { encoding: 'utf8' }).trim();

  it('deploys the stack as a git ref has it, from a checkout kept per commit, and records the commit', async () => {
    const w = await world();
    const api = path.join(w.s.dir, 'services', 'web', 'api.yaml');
    writeFileSync(path.join(w.s.dir, '.gitignore'), '.deployer/\n');
    git(w.s.dir, 'init', '-q', '-b', 'main');
    git(w.s.dir, 'add', '.');
    git(w.s.dir, 'commit', '-qm', 'two replicas');
    const first = git(w.s.dir, 'rev-parse', 'HEAD');
    writeFileSync(api, readFileSync(api, 'utf8').replace(/replicas: \d+/, 'replicas: 3'));
    git(w.s.dir, 'commit', '-qam', 'three replicas');
    const deployRef = async (ref: string) => {
      const res = await w.s.app.inject({
        method: 'POST',
        url: '/api/v1/deploy',
        headers: w.s.as('deployer'),
        payload: { stack: 'quickstart', environment: 'dev', ref },
      });
      expect(res.statusCode, res.body).toBe(202);
      return w.s.runs.settled(res.json().run.id);
    };
    const replicas = async () => (await w.store.read('quickstart', 'dev'))!.components['web/api']!.spec['replicas'];
    expect((await deployRef('HEAD~1'))!.status).toBe('succeeded');
    expect(await replicas()).toBe(2);
    expect(existsSync(path.join(w.s.dir, '.deployer', 'checkouts', first, 'services', 'web', 'api.yaml'))).toBe(true);
    const [deployed] = await w.s.ledger.listDeployments({ limit: 1 });
    expect(deployed!.metadata).toMatchObject({ git_ref: 'HEAD~1', git_commit: first });
    expect((await deployRef('main'))!.status).toBe('succeeded');
    expect(await replicas()).toBe(3);
    // The served directory itself is untouched.
    expect(git(w.s.dir, 'status', '--porcelain')).toBe('');
  });

  it('refuses a ref the repository does not have, a directory outside git, and a ref with a plan', async () => {
    const w = await world();
    const ask = (body: Record<string, unknown>) =>
      w.s.app.inject({
        method: 'POST',
        url: '/api/v1/deploy',
        headers: w.s.as('deployer'),
        payload: { stack: 'quickstart', environment: 'dev', ...body },
      });
    const outside = await ask({ ref: 'main' });
    expect([outside.statusCode, outside.json().error.message]).toEqual([400, expect.stringContaining('is in no git repository')]);
    git(w.s.dir, 'init', '-q', '-b', 'main');
    git(w.s.dir, 'add', '.');
    git(w.s.dir, 'commit', '-qm', 'one');
    const unknown = await ask({ ref: 'v9.9.9' });
    expect([unknown.statusCode, unknown.json().error.message]).toEqual([400, expect.stringContaining('has no commit v9.9.9')]);
    const option = await ask({ ref: '--upload-pack=x' });
    expect(option.json().error.message).toMatch(/is not a git revision/);
    const both = await ask({ ref: 'HEAD', plan: {} });
    expect(both.json().error.message).toBe('give either a plan or a ref, not both');
    expect(await w.s.ledger.listDeployments()).toEqual([]);
  });
});

describe('POST /api/v1/rollback/{deploymentId}', () => {
  it("returns the stack to the state version the deployment's run started from", async () => {
    const w = await world();
    await w.s.runs.settled((await w.deploy()).json().run.id);
    // A second deployment changes the API's spec.
    const api = path.join(w.s.dir, 'services', 'web', 'api.yaml');
    writeFileSync(api, readFileSync(api, 'utf8').replace(/replicas: \d+/, 'replicas: 3'));
    await w.s.runs.settled((await w.deploy()).json().run.id);
    const [second] = await w.s.ledger.listDeployments({ stack: 'quickstart', limit: 1 });
    const serialBefore = (await w.store.read('quickstart', 'dev'))!.serial;
    const res = await w.s.app.inject({ method: 'POST', url: `/api/v1/rollback/${second!.id}`, headers: w.s.as('deployer') });
    expect(res.statusCode).toBe(202);
    const run = await w.s.runs.settled(res.json().run.id);
    expect(run).toMatchObject({ kind: 'rollback', status: 'succeeded' });
    expect(run!.summary!.operation).toBe('rollback');
    const state = (await w.store.read('quickstart', 'dev'))!;
    expect(state.serial).toBeGreaterThan(serialBefore);
    expect(JSON.stringify(state.components['web/api']!.spec)).not.toContain('"replicas":3');
    const audit = await w.s.ledger.access().listAudit({ action: 'rollback' });
    expect(audit[0]).toMatchObject({ target: second!.id, result: 'ok', status: 202 });
  });

  it('refuses a deployment it does not know, or one recorded by another tool, with 400', async () => {
    const w = await world();
    const unknown = await w.s.app.inject({ method: 'POST', url: '/api/v1/rollback/nope', headers: w.s.as('deployer') });
    expect([unknown.statusCode, unknown.json().error.message]).toEqual([400, 'no deployment nope in the ledger']);
    await w.s.ledger.recordDeployment({
      id: 'ext',
      stack: 'quickstart',
      service: 'web',
      version: '1',
      environment: 'dev',
      type: 'rolling',
      started: '2026-01-01T00:00:00.000Z',
      completed: null,
      status: 'success',
      initiator: 'ci',
      metadata: {},
      parentId: null,
    });
    const external = await w.s.app.inject({ method: 'POST', url: '/api/v1/rollback/ext', headers: w.s.as('deployer') });
    expect(external.json().error.message).toMatch(/recorded by another tool/);
  });
});

describe('POST /api/v1/locks/{key}/force-unlock', () => {
  it("releases a dead run's lock only with its lock id, shows it in /stacks before, and audits it", async () => {
    const w = await world();
    const manager = openLockManager('file://.deployer', w.s.dir);
    const lock = await manager.acquire({
      lockKey: 'stack:quickstart:env:dev',
      ttlMs: 3_600_000,
      lockedBy: 'ci@runner-7',
      metadata: { operation: 'apply' },
    });
    const stacks = (await w.s.app.inject({ url: '/api/v1/stacks', headers: w.s.as('auditor') })).json().stacks;
    expect(stacks[0].environments[0].lock).toMatchObject({ lockId: lock.lockId, lockedBy: 'ci@runner-7', expired: false });
    // Who holds it is personal: a viewer sees a pseudonym.
    const viewed = (await w.s.app.inject({ url: '/api/v1/stacks', headers: w.s.as('viewer') })).json().stacks;
    expect(viewed[0].environments[0].lock).toMatchObject({ lockId: lock.lockId, lockedBy: expect.stringMatching(/^person-[0-9a-f]{8}$/) });
    expect(JSON.stringify(viewed)).not.toContain('runner-7');
    const url = '/api/v1/locks/stack:quickstart:env:dev/force-unlock';
    const wrong = await w.s.app.inject({ method: 'POST', url, headers: w.s.as('admin'), payload: { lockId: 'not-it' } });
    expect(wrong.statusCode).toBe(409);
    expect(wrong.json().error.details).toEqual([`it is held with lock id ${lock.lockId} by ci@runner-7`]);
    const right = await w.s.app.inject({ method: 'POST', url, headers: w.s.as('admin'), payload: { lockId: lock.lockId } });
    expect(right.statusCode).toBe(200);
    expect(right.json().released).toMatchObject({ lockId: lock.lockId, lockedBy: 'ci@runner-7' });
    expect(await manager.list('stack:quickstart:env:dev')).toEqual([]);
    const bad = await w.s.app.inject({
      method: 'POST',
      url: '/api/v1/locks/mine/force-unlock',
      headers: w.s.as('admin'),
      payload: { lockId: 'x' },
    });
    expect(bad.statusCode).toBe(400);
    const audit = await w.s.ledger.access().listAudit({ action: 'force-unlock' });
    expect(audit.map((a) => [a.result, a.target])).toEqual([
      ['invalid', 'mine'],
      ['ok', 'stack:quickstart:env:dev'],
      ['conflict', 'stack:quickstart:env:dev'],
    ]);
    expect(audit[1]!.detail).toEqual({ lockId: lock.lockId, heldBy: 'ci@runner-7' });
  });
});

describe('stopping the server', () => {
  it('stops its running runs: running components are cancelled after the grace period, and the run ends cancelled', async () => {
    const w = await world();
    w.hold();
    const { run } = (await w.deploy()).json();
    await w.s.runs.close(0);
    expect((await w.s.runs.settled(run.id))!.status).toBe('cancelled');
  });
});

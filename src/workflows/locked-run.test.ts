/**
 * The apply, destroy and rollback workflows without Pulumi: a real stack directory, the memory
 * state store, lock manager and ledger, and a scripted engine. The failure paths
 * a user meets: what a failure skips, the automatic rollback, deletes after their dependents, the
 * circuit breaker, a lease lost mid-run, cancellation, and a rerun that resumes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { FakeEngine, fakeTarget, settingsFor, type Step } from '../../test/helpers/fake-engine.js';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import { LockLostError } from '../errors.js';
import { MemoryLedger } from '../ledger/memory.js';
import { MemoryLockManager } from '../lock/memory.js';
import { MemoryStateStore } from '../state/memory.js';
import type { RunEvent } from '../executor/events.js';
import { applyStack, destroyStack } from './apply.js';
import { rollbackToVersion } from './rollback.js';
import type { RunContext, RunOutcome } from './context.js';

afterAll(() => removeTestdirs());

const s3 = (service: string, name: string, extra = ''): string =>
  `apiVersion: components.deployer.io/v1\nkind: S3\nmetadata:\n  name: ${name}\n  service: ${service}\nspec:\n  bucketName: ${service}-${name}${extra}\n`;
const service = (name: string): string => `apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: ${name}\n`;

/** data/files <- app/a <- app/b, and other/logs on its own. */
function stack(stackSpec = '', files: Record<string, string> = {}): string {
  return writeStackDir({
    'stack.yaml': `apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: shop\nspec:\n  environments: [dev]\n  target: local\n${stackSpec}`,
    'services/data/service.yaml': service('data'),
    'services/app/service.yaml': service('app'),
    'services/other/service.yaml': service('other'),
    'services/data/files.yaml': s3('data', 'files'),
    'services/app/a.yaml': s3('app', 'a', '\n  dependsOn: [data/files]'),
    'services/app/b.yaml': s3('app', 'b', '\n  dependsOn: [app/a]'),
    'services/other/logs.yaml': s3('other', 'logs'),
    ...files,
  });
}

/** A world for runs on `dir`: one state store, one lock manager, one ledger, one engine. */
function world(dir: string, script: (op: 'up' | 'destroy', id: string) => Step | undefined = () => undefined) {
  const store = new MemoryStateStore();
  const locks = new MemoryLockManager();
  const engine = new FakeEngine(script);
  const events: RunEvent[] = [];
  // Each run opens (and closes) its own handle on the one ledger.
  const ledgerRecords = new MemoryLedger().records;
  const ctx = (over: Partial<RunContext> = {}): RunContext => ({
    settings: settingsFor(dir),
    listener: (e) => events.push(e),
    dependencies: { store, locks, target: fakeTarget, openLedger: () => new MemoryLedger(ledgerRecords), engine: async () => engine },
    ...over,
  });
  const ledger = (): MemoryLedger => new MemoryLedger(ledgerRecords);
  return { store, locks, engine, events, ctx, ledger };
}

function results(outcome: RunOutcome): Record<string, string> {
  if (outcome.status !== 'done') throw new Error(`not done: ${outcome.status}`);
  return Object.fromEntries(outcome.summary.components.map((c) => [c.id, c.result]));
}

describe('a run without Pulumi', () => {
  it('a failure skips what depends on it, lets the other branch finish, and is rolled back', async () => {
    const dir = stack();
    const w = world(dir, (op, id) => (op === 'up' && id === 'app/a' ? { fail: 'no such bucket' } : undefined));
    const out = await applyStack(w.ctx());
    expect(results(out)).toEqual({ 'data/files': 'created', 'app/a': 'failed', 'app/b': 'skipped', 'other/logs': 'created' });
    if (out.status !== 'done') return;
    expect(out.summary.components.find((c) => c.id === 'app/b')!.reason).toBe('upstream failed: app/a');
    // Everything the run created is destroyed again (scope: run), the failed create too (Pulumi
    // may hold part of it), dependents first.
    expect(out.summary.rollback).toMatchObject({ ok: true, triggers: ['app/a'] });
    const destroys = w.engine.calls.filter((c) => c.startsWith('destroy'));
    expect([...destroys].sort()).toEqual(['destroy app/a', 'destroy data/files', 'destroy other/logs']);
    expect(destroys.indexOf('destroy app/a')).toBeLessThan(destroys.indexOf('destroy data/files'));
    expect(Object.keys((await w.store.read('shop', 'dev'))!.components)).toEqual([]);
    const l = w.ledger();
    expect((await l.listDeployments()).map((d) => [d.service, d.status]).sort()).toEqual([
      ['app', 'rolled-back'],
      ['data', 'rolled-back'],
      ['other', 'rolled-back'],
    ]);
    await l.close();
  });

  it('a rerun resumes: what is done is never sent to the engine again', async () => {
    const dir = stack('  rollback: off\n');
    let broken = true;
    const w = world(dir, (op, id) => (op === 'up' && id === 'app/a' && broken ? { fail: 'flaky' } : undefined));
    await applyStack(w.ctx());
    broken = false;
    w.engine.calls.length = 0;
    const out = await applyStack(w.ctx());
    expect(results(out)).toEqual({ 'data/files': 'unchanged', 'app/a': 'created', 'app/b': 'created', 'other/logs': 'unchanged' });
    expect(w.engine.calls).toEqual(['up app/a', 'up app/b']);
    // And a third run has nothing to do at all.
    w.engine.calls.length = 0;
    expect(Object.values(results(await applyStack(w.ctx())))).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
    expect(w.engine.calls).toEqual([]);
  });

  it('deletes run after everything that depended on what is deleted; destroy takes dependents first', async () => {
    const dir = stack();
    const w = world(dir);
    await applyStack(w.ctx());
    w.engine.calls.length = 0;
    const { rmSync } = await import('node:fs');
    rmSync(`${dir}/services/app/a.yaml`);
    rmSync(`${dir}/services/app/b.yaml`);
    expect(results(await applyStack(w.ctx()))).toMatchObject({ 'app/a': 'deleted', 'app/b': 'deleted' });
    expect(w.engine.calls).toEqual(['destroy app/b', 'destroy app/a']);
    w.engine.calls.length = 0;
    await destroyStack(w.ctx());
    expect(w.engine.calls.sort()).toEqual(['destroy data/files', 'destroy other/logs']);
    expect((await w.store.read('shop', 'dev'))!.components).toEqual({});
    // The ledger keeps the destroy of each service as a destroy: no deployment of any metric.
    const destroys = (await w.ledger().listDeployments()).filter((d) => d.operation === 'destroy');
    expect(destroys.map((d) => [d.service, d.status]).sort()).toEqual([
      ['data', 'success'],
      ['other', 'success'],
    ]);
  });

  it('a destroy hands over dependents and what they depend on together: behind a failed delete nothing is deleted, and once stopped nothing behind starts', async () => {
    const dir = stack();
    const b: { gate?: Promise<void> } = {}; // b's delete fails until it has a gate
    const w = world(dir, (op, id) =>
      op === 'destroy' && id === 'app/b' ? (b.gate ? { gate: b.gate } : { fail: 'bucket not empty' }) : undefined,
    );
    await applyStack(w.ctx());
    w.engine.calls.length = 0;
    const refused = await destroyStack(w.ctx());
    expect(results(refused)).toEqual({ 'app/b': 'failed', 'app/a': 'skipped', 'data/files': 'skipped', 'other/logs': 'deleted' });
    if (refused.status !== 'done') return;
    expect(refused.summary.components.find((c) => c.id === 'data/files')!.reason).toBe('upstream failed: app/b');
    expect(w.engine.calls.sort()).toEqual(['destroy app/b', 'destroy other/logs']);
    expect(Object.keys((await w.store.read('shop', 'dev'))!.components).sort()).toEqual(['app/a', 'app/b', 'data/files']);

    // Told to stop while b's delete runs: b's ends, a and files (handed over, waiting) never start.
    let release!: () => void;
    b.gate = new Promise<void>((r) => (release = r));
    const stop = new AbortController();
    w.engine.onStart = (call) => {
      if (call !== 'destroy app/b') return;
      stop.abort();
      release();
    };
    w.engine.calls.length = 0;
    const stopped = await destroyStack(w.ctx({ stop: stop.signal }));
    expect(results(stopped)).toEqual({ 'app/b': 'deleted', 'app/a': 'cancelled', 'data/files': 'cancelled' });
    expect(w.engine.calls).toEqual(['destroy app/b']);
    expect(Object.keys((await w.store.read('shop', 'dev'))!.components).sort()).toEqual(['app/a', 'data/files']);
  });

  it('the circuit breaker opens after repeated failures: the component is then not sent to the engine', async () => {
    const dir = stack('  rollback: off\n  circuitBreaker:\n    failureThreshold: 2\n    recoveryTimeout: 1h\n');
    const w = world(dir, (op, id) => (op === 'up' && id === 'app/a' ? { fail: 'always' } : undefined));
    await applyStack(w.ctx());
    await applyStack(w.ctx());
    w.engine.calls.length = 0;
    const out = await applyStack(w.ctx());
    expect(results(out)['app/a']).toBe('failed');
    expect(w.engine.calls).not.toContain('up app/a');
    if (out.status === 'done')
      expect(out.summary.components.find((c) => c.id === 'app/a')!.reason).toMatch(/circuit breaker open: 2 failed deployments in a row/);
  });

  it('a lease lost mid-run: nothing new starts, nothing more is recorded, the run ends with LOCK_LOST', async () => {
    const dir = stack('  rollback: off\n');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const w = world(dir, (op, id) => (op === 'up' && id === 'data/files' ? { gate } : undefined));
    // Renewed every 20 ms; the lock is broken while the first component deploys.
    w.engine.onStart = (call) => {
      if (call !== 'up data/files') return;
      void w.locks.list('').then(([l]) => w.locks.forceUnlock(l!.lockKey, l!.lockId));
    };
    const lost = new Promise<void>((resolve) => {
      const listener = (e: RunEvent): void => {
        w.events.push(e);
        if (e.type === 'lock-lost') resolve();
      };
      void applyStack({ ...w.ctx({ settings: settingsFor(dir, { concurrency: 1, lockTtlMs: 60 }) }), listener }).then(
        () => (outcome = 'finished'),
        (err: unknown) => (outcome = err),
      );
    });
    let outcome: unknown;
    await lost;
    release();
    await expect.poll(() => outcome).toBeDefined();
    expect(outcome).toBeInstanceOf(LockLostError);
    expect(w.engine.calls).toEqual(['up data/files']);
    const done = w.events
      .filter((e): e is Extract<RunEvent, { type: 'component-done' }> => e.type === 'component-done')
      .map((e) => [e.report.id, e.report.result]);
    expect(Object.fromEntries(done)).toMatchObject({ 'data/files': 'failed', 'other/logs': 'cancelled', 'app/a': 'skipped' });
    expect(await w.store.read('shop', 'dev')).toBeUndefined();
  });

  it('cancelled: the running operation is cancelled, nothing else starts, and nothing is rolled back', async () => {
    const dir = stack();
    const cancel = new AbortController();
    const stop = new AbortController();
    const w = world(dir, (op, id) => (op === 'up' && id === 'data/files' ? { gate: new Promise(() => undefined) } : undefined));
    w.engine.onStart = () => {
      stop.abort();
      cancel.abort();
    };
    const out = await applyStack(w.ctx({ settings: settingsFor(dir, { concurrency: 1 }), stop: stop.signal, cancel: cancel.signal }));
    expect(results(out)).toMatchObject({ 'data/files': 'failed', 'other/logs': 'cancelled' });
    if (out.status === 'done') {
      expect(out.summary.components.find((c) => c.id === 'data/files')!.reason).toMatch(/was cancelled/);
      expect(out.summary.rollback).toBeUndefined();
    }
    expect(w.engine.calls).toEqual(['up data/files']);
  });

  it('deployer rollback: the last good version comes back, the ledger says from what to what; with one good version there is nothing to do', async () => {
    const { writeFileSync } = await import('node:fs');
    const dir = stack('  rollback: manual\n');
    let broken = false;
    const w = world(dir, (op, id) => (op === 'up' && id === 'app/b' && broken ? { fail: 'bad v3' } : undefined));
    await applyStack(w.ctx());
    expect(await rollbackToVersion(w.ctx(), 'last-good')).toMatchObject({
      status: 'nothing',
      reason: expect.stringMatching(/is the only good one/),
    });
    // v2 succeeds and changes app/a; v3 fails on app/b and is left in place (manual).
    writeFileSync(`${dir}/services/app/a.yaml`, s3('app', 'a', '-v2\n  dependsOn: [data/files]'));
    await applyStack(w.ctx());
    const good = (await w.store.read('shop', 'dev'))!;
    broken = true;
    writeFileSync(`${dir}/services/app/b.yaml`, s3('app', 'b', '-v3\n  dependsOn: [app/a]'));
    expect(results(await applyStack(w.ctx()))['app/b']).toBe('failed');
    broken = false;
    w.engine.calls.length = 0;

    const out = await rollbackToVersion(w.ctx(), 'last-good');
    expect(results(out)).toMatchObject({ 'app/b': 'updated', 'app/a': 'unchanged', 'data/files': 'unchanged' });
    expect(w.engine.calls).toEqual(['up app/b']);
    const now = (await w.store.read('shop', 'dev'))!;
    expect(now.components['app/b']!.specHash).toBe(good.components['app/b']!.specHash);
    expect(now.lastRun).toMatchObject({ operation: 'rollback', ok: true, restored: good.serial });
    const l = w.ledger();
    const [back] = await l.listRollbacks({ service: 'app' });
    expect(back).toMatchObject({ reason: `rollback to serial ${good.serial} (last known good)` });
    expect(back!.fromVersion).not.toBe(back!.toVersion);
    await l.close();
  });

  it('the lock is released whatever the clean-up meets: a ledger that cannot close, a listener that throws', async () => {
    const dir = stack();
    const w = world(dir);
    const failingClose = (): MemoryLedger =>
      Object.assign(new MemoryLedger(), { close: async () => Promise.reject(new Error('disk gone')) });
    await expect(applyStack(w.ctx({ dependencies: { ...w.ctx().dependencies, openLedger: failingClose } }))).rejects.toThrow('disk gone');
    expect(await w.locks.list('')).toEqual([]);
    const throwing = (e: RunEvent): void => {
      if (e.type === 'lock-acquired') throw new Error('listener broke');
    };
    await expect(applyStack({ ...w.ctx(), listener: throwing })).rejects.toThrow('listener broke');
    expect(await w.locks.list('')).toEqual([]);
  });
});

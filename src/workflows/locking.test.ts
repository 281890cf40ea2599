/** Lock levels and state writers with the in-memory lock manager and state store. */
import { describe, expect, it } from 'vitest';
import { LockHeldError } from '../errors.js';
import { MemoryLockManager } from '../lock/memory.js';
import { componentLockKey, serviceLockKey, stackLockKey, stateLockKey } from '../lock/locker.js';
import type { Plan, PlanAction } from '../model/plan.js';
import type { ComponentState, StackState } from '../model/state.js';
import { emptyState } from '../state/index.js';
import { MemoryStateStore } from '../state/memory.js';
import { lockAndPlan, lockKeysFor } from './locking.js';
import { exclusiveWriter, sharedWriter } from '../executor/state-writer.js';

function plan(changes: Record<string, PlanAction['action']>): Plan {
  const actions = Object.entries(changes).map(([id, action]): PlanAction => ({
    id,
    kind: 'S3',
    action,
    reason: '',
    changes: [],
    wave: action === 'no-op' ? null : 0,
  }));
  return {
    stack: 'shop',
    environment: 'prod',
    lineage: null,
    serial: 0,
    actions,
    waves: [],
    summary: { create: 0, update: 0, replace: 0, delete: 0, noop: 0 },
  };
}

const record = (deploymentId: string): ComponentState => ({
  kind: 'S3',
  target: 'local',
  specHash: deploymentId,
  inputsHash: deploymentId,
  spec: {},
  outputs: {},
  dependsOn: [],
  pulumiStack: 'x',
  status: 'deployed',
  deploymentId,
  updatedAt: '2026-01-01T00:00:00.000Z',
});

describe('lockKeysFor', () => {
  const p = plan({ 'web/api': 'update', 'web/ui': 'no-op', 'data/db': 'create', 'data/files': 'delete' });
  it('takes the stack key at stack level, whatever changes', () => {
    expect(lockKeysFor('stack', plan({}))).toEqual([stackLockKey('shop', 'prod')]);
  });
  it('takes one key per changed service, or per changed component, sorted', () => {
    expect(lockKeysFor('service', p)).toEqual([serviceLockKey('shop', 'prod', 'data'), serviceLockKey('shop', 'prod', 'web')]);
    expect(lockKeysFor('component', p)).toEqual(['data/db', 'data/files', 'web/api'].map((id) => componentLockKey('shop', 'prod', id)));
    expect(lockKeysFor('component', plan({ 'web/api': 'no-op' }))).toEqual([]);
  });
});

describe('lockAndPlan', () => {
  const lease = { ttlMs: 60_000, lockedBy: 'ana@laptop', metadata: {} };

  it('lets runs on different components of one stack hold their locks together', async () => {
    const locks = new MemoryLockManager();
    const store = new MemoryStateStore();
    const base = { level: 'component' as const, stack: 'shop', environment: 'prod', store, locks, lease };
    const a = await lockAndPlan({ ...base, prepare: () => ({ plan: plan({ 'web/api': 'update', 'web/ui': 'no-op' }) }) });
    const b = await lockAndPlan({ ...base, prepare: () => ({ plan: plan({ 'web/api': 'no-op', 'web/ui': 'update' }) }) });
    expect(a.lease.locks.map((l) => l.lockKey)).toEqual([componentLockKey('shop', 'prod', 'web/api')]);
    expect(b.lease.locks.map((l) => l.lockKey)).toEqual([componentLockKey('shop', 'prod', 'web/ui')]);
    const c = lockAndPlan({ ...base, prepare: () => ({ plan: plan({ 'web/api': 'update' }) }) });
    await expect(c).rejects.toBeInstanceOf(LockHeldError);
    await a.lease.release();
    await b.lease.release();
  });

  it('retakes wider locks when the plan under the locks touches more than the first look', async () => {
    const locks = new MemoryLockManager();
    const store = new MemoryStateStore();
    let calls = 0;
    const plans = [
      plan({ 'web/api': 'update' }),
      plan({ 'web/api': 'update', 'data/db': 'update' }),
      plan({ 'web/api': 'update', 'data/db': 'update' }),
    ];
    const r = await lockAndPlan({
      level: 'service',
      stack: 'shop',
      environment: 'prod',
      store,
      locks,
      lease,
      prepare: () => ({ plan: plans[calls++]! }),
    });
    expect(r.lease.locks.map((l) => l.lockKey)).toEqual([serviceLockKey('shop', 'prod', 'data'), serviceLockKey('shop', 'prod', 'web')]);
    expect(r.prepared.plan.actions).toHaveLength(2);
    await r.lease.release();
    expect(await locks.list('')).toEqual([]);
  });
});

describe('state writers', () => {
  it('exclusive: writes its own copy, version after version', async () => {
    const store = new MemoryStateStore();
    const w = exclusiveWriter(store, emptyState('shop', 'prod'));
    await Promise.all([w.commit((c) => void (c['a/x'] = record('1'))), w.commit((c) => void (c['b/y'] = record('2')))]);
    const s = await w.flush();
    expect(s.serial).toBe(1); // committed in the same turn: one write holds both (executor/state-writer.ts)
    expect(Object.keys(s.components).sort()).toEqual(['a/x', 'b/y']);
  });

  it('shared: two runs writing the same state each keep the other’s components', async () => {
    const store = new MemoryStateStore();
    const locks = new MemoryLockManager();
    const base: StackState = await store.write({ ...emptyState('shop', 'prod'), components: { 'old/z': record('0') } });
    const one = sharedWriter({ store, base, locks, lockedBy: 'run-1', metadata: {} });
    const two = sharedWriter({ store, base, locks, lockedBy: 'run-2', metadata: {} });
    await Promise.all([
      one.commit((c) => void (c['a/x'] = record('run-1'))),
      two.commit((c) => void (c['b/y'] = record('run-2'))),
      two.commit((c) => void delete c['old/z']),
    ]);
    const stored = (await store.read('shop', 'prod'))!;
    expect(stored.serial).toBe(3); // run-2's two changes share one write
    expect(Object.keys(stored.components).sort()).toEqual(['a/x', 'b/y']);
    expect(await locks.status(stateLockKey('shop', 'prod'))).toBeUndefined();
  });
});

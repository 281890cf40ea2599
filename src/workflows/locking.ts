/**
 * Which locks a run takes, by the Stack's `spec.lock.level`: the whole stack (default), or
 * only the services or components its plan changes — so runs on different parts of one stack
 * proceed together. Keys are taken in sorted order, all or none (lease.ts). Under service or
 * component locks the plan is made once to learn what to lock and again under the locks; if it
 * changed meanwhile to touch something not locked, the locks are released and the run retries.
 */
import { InvalidInputError } from '../errors.js';
import {
  acquireLease,
  componentLockKey,
  serviceLockKey,
  stackLockKey,
  type Lease,
  type LeaseOptions,
  type LockManager,
} from '../lock/index.js';
import type { LockLevel } from '../model/desired.js';
import type { Plan } from '../model/plan.js';
import type { StackState } from '../model/state.js';
import type { StateStore } from '../state/index.js';

/** The keys a plan needs at `level` (none for a plan that changes nothing below stack level). */
export function lockKeysFor(level: LockLevel, plan: Plan): string[] {
  const { stack, environment } = plan;
  if (level === 'stack') return [stackLockKey(stack, environment)];
  const changed = plan.actions.filter((a) => a.action !== 'no-op').map((a) => a.id);
  const keys =
    level === 'service'
      ? changed.map((id) => serviceLockKey(stack, environment, id.split('/')[0]!))
      : changed.map((id) => componentLockKey(stack, environment, id));
  return [...new Set(keys)].sort();
}

/** The locks a run holds, the state read under them, and what was prepared from that state. */
export interface LockedPlan<P extends { plan: Plan }> {
  lease: Lease;
  stored: StackState | undefined;
  prepared: P;
}

export interface LockAndPlanOptions<P extends { plan: Plan }> {
  level: LockLevel;
  stack: string;
  environment: string;
  store: StateStore;
  locks: LockManager;
  /** Makes the plan (and whatever it was made with) from a stored state; called again under the locks. */
  prepare: (stored: StackState | undefined) => P;
  lease: Omit<LeaseOptions, 'manager' | 'lockKeys'>;
}

const ATTEMPTS = 3;

export async function lockAndPlan<P extends { plan: Plan }>(o: LockAndPlanOptions<P>): Promise<LockedPlan<P>> {
  let keys =
    o.level === 'stack'
      ? [stackLockKey(o.stack, o.environment)]
      : lockKeysFor(o.level, o.prepare(await o.store.read(o.stack, o.environment)).plan);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const lease = await acquireLease({ ...o.lease, manager: o.locks, lockKeys: keys });
    try {
      const stored = await o.store.read(o.stack, o.environment);
      const prepared = o.prepare(stored);
      const needed = lockKeysFor(o.level, prepared.plan);
      const missing = needed.filter((k) => !keys.includes(k));
      if (missing.length === 0) return { lease, stored, prepared };
      await lease.release();
      keys = [...new Set([...keys, ...needed])].sort();
    } catch (err) {
      await lease.release();
      throw err;
    }
  }
  throw new InvalidInputError(`the stack kept changing while its ${o.level} locks were being taken; run again`);
}

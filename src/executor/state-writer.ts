/**
 * How a run records each finished component in the state. Under a stack lock the run owns the
 * whole state: it writes its own copy, version after version. Under service or component locks
 * other runs write the same state.json at the same time, so each write takes the short state
 * lock, re-reads the stored state and changes only this component's entry.
 */
import { LockLostError } from '../errors.js';
import { acquireLease, stateLockKey, type LockManager } from '../lock/index.js';
import type { ComponentState, StackState } from '../model/state.js';
import type { StateStore } from '../state/index.js';

/** Changes the components of the next version in place (and, rarely, the version itself: `lastRun`). */
export type ComponentsChange = (components: Record<string, ComponentState>, next: StackState) => void;

export interface StateWriter {
  /** Applies `change` to the stored state and writes it; one write at a time, in call order. */
  commit(change: ComponentsChange): Promise<StackState>;
  /** The last state this writer stored (or the base it started from). */
  readonly current: StackState;
  /** Waits for the writes in progress; resolves to the last state stored. */
  flush(): Promise<StackState>;
}

/**
 * One write at a time, in call order; `write` derives and stores the next version. Changes that
 * arrive while a write is in progress, or in the same turn of the event loop (the components of
 * one Pulumi operation finish together), go into the next write together: each caller's promise
 * still resolves only once a stored version holds its change.
 */
function serialized(base: StackState, write: (current: StackState, change: ComponentsChange) => Promise<StackState>): StateWriter {
  let current = base;
  const queue: Array<{ change: ComponentsChange; resolve: (s: StackState) => void; reject: (err: unknown) => void }> = [];
  let draining: Promise<void> | undefined;
  const drain = async (): Promise<void> => {
    await new Promise((r) => setImmediate(r));
    while (queue.length > 0) {
      const group = queue.splice(0);
      const failed = new Map<number, unknown>();
      const combined: ComponentsChange = (components, next) =>
        group.forEach((g, i) => {
          try {
            g.change(components, next);
          } catch (err) {
            failed.set(i, err);
          }
        });
      try {
        current = await write(current, combined);
        group.forEach((g, i) => (failed.has(i) ? g.reject(failed.get(i)) : g.resolve(current)));
      } catch (err) {
        for (const g of group) g.reject(err);
      }
    }
    draining = undefined;
  };
  return {
    get current() {
      return current;
    },
    flush: async () => {
      while (draining) await draining;
      return current;
    },
    commit: (change) =>
      new Promise<StackState>((resolve, reject) => {
        queue.push({ change, resolve, reject });
        draining ??= drain();
      }),
  };
}

function applied(state: StackState, change: ComponentsChange): StackState {
  const next: StackState = { ...state, components: { ...state.components } };
  change(next.components, next);
  return next;
}

export function exclusiveWriter(store: StateStore, base: StackState): StateWriter {
  return serialized(base, (current, change) => store.write(applied(current, change)));
}

export interface SharedWriterOptions {
  store: StateStore;
  base: StackState;
  locks: LockManager;
  lockedBy: string;
  metadata: Record<string, string>;
}

/** How long one state write may hold the state lock, and how long to wait for it. */
const STATE_LOCK_TTL_MS = 60_000;
const STATE_LOCK_WAIT_MS = 120_000;

export function sharedWriter(o: SharedWriterOptions): StateWriter {
  const stateKey = stateLockKey(o.base.stack, o.base.environment);
  return serialized(o.base, async (_current, change) => {
    const lease = await acquireLease({
      manager: o.locks,
      lockKeys: [stateKey],
      ttlMs: STATE_LOCK_TTL_MS,
      timeoutMs: STATE_LOCK_WAIT_MS,
      lockedBy: o.lockedBy,
      metadata: o.metadata,
    });
    try {
      const stored = (await o.store.read(o.base.stack, o.base.environment)) ?? { ...o.base, serial: 0, components: {} };
      return await o.store.write(applied(stored, change));
    } finally {
      await lease.release();
    }
  });
}

/**
 * A writer that stops writing once the run's lease is lost: another run may hold the lock by
 * now, and its view of the state must not change under it. The component that finished after
 * the loss is reported failed ("not recorded"), so the next run redoes it.
 */
export function guardedWriter(writer: StateWriter, lost: AbortSignal): StateWriter {
  return {
    get current() {
      return writer.current;
    },
    flush: () => writer.flush(),
    commit: (change) => {
      if (lost.aborted) {
        const reason = lost.reason as Error;
        return Promise.reject(
          new LockLostError('', `${reason.message}: this result was not recorded in the state, and the next run checks it again`),
        );
      }
      return writer.commit(change);
    },
  };
}

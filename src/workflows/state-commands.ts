/**
 * Operations on the recorded state itself (`deployer state ...`): history, reset to a
 * version, forgetting a component, pull and push. Every change takes the stack lock and the
 * state lock and refuses while any service or component lock of the stack is held, so no run
 * can write over it; every change is a new serial, so it can itself be rolled back.
 */
import type { Settings } from '../config/index.js';
import { DeployerError, InvalidInputError, StateCorruptError } from '../errors.js';
import { acquireLease, isExpired, openLockManager, stackLockKey, stateLockKey, whoAmI } from '../lock/index.js';
import { lockHeldError } from '../lock/unlock-hint.js';
import type { ComponentState, StackState } from '../model/state.js';
import { STATE_VERSION } from '../model/state.js';
import { openStateStore, type StateStore } from '../state/index.js';

export interface StateTarget {
  settings: Settings;
  stack: string;
  environment: string;
}

export interface VersionSummary {
  /** null for a current state too damaged to say. */
  serial: number | null;
  savedAt: string | null;
  components: number;
  /** Runs that wrote the components of this version. */
  deployments: string[];
  current: boolean;
  /** Why this version cannot be used (its digest does not match, it does not parse). */
  damaged?: string;
}

/**
 * The stored versions, newest first. Readable when the current state is not: it is then listed
 * as damaged, above the intact versions `state recover` can restore.
 */
export async function stateHistory(t: StateTarget, limit = 20): Promise<VersionSummary[]> {
  const store = openStateStore(t.settings.stateUrl, t.settings.dir);
  const current = await store.read(t.stack, t.environment).catch((err: unknown) => {
    if (err instanceof StateCorruptError) return err;
    throw err;
  });
  const entries = (await store.history(t.stack, t.environment)).slice(-limit);
  const out: VersionSummary[] = [];
  for (const e of entries) {
    const savedAt = e.savedAt.toISOString();
    try {
      const v = await store.readVersion(t.stack, t.environment, e.serial);
      if (v) out.push(summarize(v, savedAt, false));
    } catch (err) {
      if (!(err instanceof StateCorruptError)) throw err;
      out.push({ serial: e.serial, savedAt, components: 0, deployments: [], current: false, damaged: err.message });
    }
  }
  if (current instanceof StateCorruptError)
    out.push({ serial: null, savedAt: null, components: 0, deployments: [], current: true, damaged: current.message });
  else if (current) out.push(summarize(current, null, true));
  return out.reverse();
}

function summarize(s: StackState, savedAt: string | null, current: boolean): VersionSummary {
  const comps = Object.values(s.components);
  return { serial: s.serial, savedAt, components: comps.length, deployments: [...new Set(comps.map((c) => c.deploymentId))], current };
}

export interface RecoverResult {
  /** The history version made current, and the serial it now has. */
  restored: number;
  serial: number;
  /** The current state was damaged (set aside at `damagedKeptAt`); false: it was intact. */
  wasDamaged: boolean;
  damagedKeptAt?: string;
}

/**
 * `deployer state recover [--to N]`: makes a verified history version current again — the newest
 * intact one, or N — over a current state that cannot be read. The damaged state is set aside,
 * not deleted. An intact current state needs --to (that is a rollback of the state, and says so).
 */
export function stateRecover(t: StateTarget, to?: number): Promise<RecoverResult> {
  let result: RecoverResult | undefined;
  return exclusive(t, 'state recover', async (store) => {
    const current = await readCurrent(store, t, true);
    if (current !== undefined && current !== 'damaged' && to === undefined) {
      throw new InvalidInputError(
        `the state of ${t.stack}/${t.environment} is intact (serial ${current.serial}): there is nothing to recover`,
        ['To make an earlier version current anyway: deployer state recover --to <serial> (see `deployer state history`).'],
      );
    }
    const version = to === undefined ? await newestIntact(store, t) : await verifiedVersion(store, t, to);
    const { stored, damagedKeptAt } = await store.restore(t.stack, t.environment, version);
    result = {
      restored: version.serial,
      serial: stored.serial,
      wasDamaged: current === 'damaged',
      ...(damagedKeptAt ? { damagedKeptAt } : {}),
    };
    return stored;
  }).then(() => result!);
}

async function newestIntact(store: StateStore, t: StateTarget): Promise<StackState> {
  const entries = (await store.history(t.stack, t.environment)).reverse();
  const skipped: string[] = [];
  for (const e of entries) {
    try {
      const v = await store.readVersion(t.stack, t.environment, e.serial);
      if (v) return v;
    } catch (err) {
      if (!(err instanceof StateCorruptError)) throw err;
      skipped.push(`serial ${e.serial}: ${err.message}`);
    }
  }
  throw new DeployerError('STATE_CORRUPT', `no intact version of the state of ${t.stack}/${t.environment} is left in its history`, {
    details: [...skipped, 'Push a state you trust with `deployer state push --force <file>`.'],
  });
}

async function verifiedVersion(store: StateStore, t: StateTarget, serial: number): Promise<StackState> {
  const version = await store.readVersion(t.stack, t.environment, serial);
  if (!version) {
    const current = await store.read(t.stack, t.environment).catch(() => undefined);
    const known = [...(await store.history(t.stack, t.environment)).map((h) => h.serial), ...(current ? [current.serial] : [])];
    throw new InvalidInputError(`state serial ${serial} does not exist`, [`stored versions: ${known.join(', ') || '(none)'}`]);
  }
  return version;
}

/**
 * Runs `work` with the whole stack to itself: its stack lock and state lock taken, and refused
 * (LockHeldError) while any service or component lock of the stack is held by a run.
 */
export async function withStackExclusive<T>(t: StateTarget, operation: string, work: (lost: AbortSignal) => Promise<T>): Promise<T> {
  const locks = openLockManager(t.settings.lockUrl, t.settings.dir);
  const stackKey = stackLockKey(t.stack, t.environment);
  const lease = await acquireLease({
    manager: locks,
    lockKeys: [stackKey, stateLockKey(t.stack, t.environment)],
    ttlMs: t.settings.lockTtlMs,
    timeoutMs: t.settings.lockTimeoutMs,
    lockedBy: whoAmI(),
    metadata: { operation, pid: String(process.pid) },
  });
  try {
    const now = new Date();
    const held = (await locks.list(`${stackKey}:`)).filter((l) => !lease.locks.some((m) => m.lockKey === l.lockKey) && !isExpired(l, now));
    if (held[0]) throw lockHeldError(held[0], locks.cliFlags);
    return await work(lease.lost);
  } finally {
    await lease.release();
  }
}

/** Runs `change` on the state store with the stack exclusively locked; returns what it stored. */
function exclusive(t: StateTarget, operation: string, change: (store: StateStore) => Promise<StackState>): Promise<StackState> {
  const store = openStateStore(t.settings.stateUrl, t.settings.dir);
  return withStackExclusive(t, operation, async (lost) => {
    const written = await change(store);
    if (lost.aborted) throw lost.reason as DeployerError;
    return written;
  });
}

/** The current state; with `force`, a damaged one counts as none (the caller replaces it). */
async function readCurrent(store: StateStore, t: StateTarget, force: boolean): Promise<StackState | undefined | 'damaged'> {
  try {
    return await store.read(t.stack, t.environment);
  } catch (err) {
    if (force && err instanceof StateCorruptError) return 'damaged';
    throw err;
  }
}

function requireState(stored: StackState | undefined, t: StateTarget): StackState {
  if (!stored) throw new InvalidInputError(`no state is recorded for stack ${t.stack}, environment ${t.environment}`);
  return stored;
}

/**
 * `state reset`: makes the recorded version `serial` current again (as a new serial), touching
 * no resource; returns what was stored. With `force` it also replaces a current state that
 * cannot be read (as `state recover --to` does). `deployer rollback` is what redeploys a version.
 */
export function resetStateTo(t: StateTarget, serial: number, force = false): Promise<StackState> {
  return exclusive(t, 'state reset', async (store) => {
    const current = await readCurrent(store, t, force);
    if (current === 'damaged') return (await store.restore(t.stack, t.environment, await verifiedVersion(store, t, serial))).stored;
    const stored = requireState(current, t);
    if (serial === stored.serial) throw new InvalidInputError(`serial ${serial} is already the current state`);
    const version = await verifiedVersion(store, t, serial);
    return store.write({ ...version, lineage: stored.lineage, serial: stored.serial });
  });
}

/** Forgets a component without destroying it; returns the forgotten record and the new state. */
export async function stateRemove(t: StateTarget, id: string): Promise<{ removed: ComponentState; state: StackState }> {
  let removed: ComponentState | undefined;
  const state = await exclusive(t, 'state rm', async (store) => {
    const current = requireState(await store.read(t.stack, t.environment), t);
    removed = current.components[id];
    if (!removed) {
      throw new InvalidInputError(`no component ${id} in the state`, [
        `recorded: ${Object.keys(current.components).sort().join(', ') || '(none)'}`,
      ]);
    }
    const components = { ...current.components };
    delete components[id];
    return store.write({ ...current, components });
  });
  return { removed: removed!, state };
}

export async function statePull(t: StateTarget): Promise<StackState | undefined> {
  return openStateStore(t.settings.stateUrl, t.settings.dir).read(t.stack, t.environment);
}

/**
 * Replaces the stored state with `pushed`. Refused when it belongs to another stack, another
 * history (lineage) or is older than the stored state, unless `force`; a forced push keeps the
 * stored lineage so that history stays one line, and replaces a current state that cannot be read.
 */
export function statePush(t: StateTarget, pushed: unknown, force: boolean): Promise<StackState> {
  const next = checkPushed(pushed, t);
  return exclusive(t, 'state push', async (store) => {
    const stored = await readCurrent(store, t, force);
    if (stored === 'damaged') return (await store.restore(t.stack, t.environment, next)).stored;
    if (stored && !force) {
      if (next.lineage !== stored.lineage) {
        throw new InvalidInputError(
          `the pushed state has lineage ${next.lineage}, the stored one ${stored.lineage}: they are different histories`,
          ['Use --force to replace it anyway.'],
        );
      }
      if (next.serial < stored.serial) {
        throw new InvalidInputError(`the pushed state (serial ${next.serial}) is older than the stored one (serial ${stored.serial})`, [
          'Pull the current state, edit that, and push it; or use --force.',
        ]);
      }
    }
    return store.write({ ...next, lineage: stored?.lineage ?? next.lineage, serial: stored?.serial ?? 0 });
  });
}

function checkPushed(value: unknown, t: StateTarget): StackState {
  const s = value as Partial<StackState> | null;
  const problems: string[] = [];
  if (typeof s !== 'object' || s === null) throw new InvalidInputError('the pushed file is not a state document (a JSON object)');
  if (s.version !== STATE_VERSION) problems.push(`version must be ${STATE_VERSION}`);
  if (typeof s.lineage !== 'string' || s.lineage === '') problems.push('lineage must be a string');
  if (!Number.isInteger(s.serial) || (s.serial ?? -1) < 0) problems.push('serial must be a whole number');
  if (typeof s.components !== 'object' || s.components === null || Array.isArray(s.components))
    problems.push('components must be an object');
  if (s.stack !== t.stack || s.environment !== t.environment)
    problems.push(`it is the state of ${s.stack}/${s.environment}, not of ${t.stack}/${t.environment}`);
  if (problems.length > 0) throw new InvalidInputError('the pushed file is not a state of this stack', problems);
  return s as StackState;
}

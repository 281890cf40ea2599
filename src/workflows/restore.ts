/**
 * What a rollback restores, decided from recorded states (no I/O but reading stored versions).
 * A rollback is an ordinary plan whose desired side is built from recorded component states
 * instead of the configuration (`desiredFromRecorded`), so it runs through the same executor in
 * dependency order: a component the run created is destroyed, an updated or replaced one
 * redeployed with its previous spec, a deleted one recreated. `whatToUndo` decides the automatic
 * undo of a failed run (undo.ts carries it out); `versionToRestore` the version `deployer
 * rollback` goes back to (rollback.ts carries it out).
 */
import { collectReferences } from '../discovery/references.js';
import { InvalidInputError } from '../errors.js';
import { buildGraph, type DependencyGraph } from '../graph/index.js';
import type { DesiredComponent, DesiredStack } from '../model/desired.js';
import type { ComponentState, StackState } from '../model/state.js';
import type { StateStore } from '../state/index.js';
import type { ComponentReport } from '../executor/events.js';
import { lastGoodSerial } from './last-good.js';
import { serialBeforeRun } from './serial-before.js';
import { versionOf } from './ledger-records.js';

export type RollbackMode = 'auto' | 'manual' | 'off';
/** `run`: undo everything the run changed (full rollback); `failed`: only the components that failed (partial recovery). */
export type RollbackScope = 'run' | 'failed';

export interface RollbackPolicy {
  mode: RollbackMode;
  scope: RollbackScope;
}

/** The mode for one component: its own `spec.rollback`, else the stack's. */
export function rollbackModeOf(desired: DesiredStack, id: string): RollbackMode {
  const own = desired.components.get(id)?.spec['rollback'];
  return own === 'auto' || own === 'manual' || own === 'off' ? own : desired.rollback.mode;
}

const CHANGED = new Set(['created', 'updated', 'replaced', 'deleted', 'failed']);

/**
 * What an automatic rollback restores after a failed run, or undefined when none is due: the
 * components the run changed (or only those that failed, by scope), minus those whose mode is
 * `off`, each put back as it was in `before`.
 */
export function whatToUndo(
  desired: DesiredStack,
  before: StackState,
  after: StackState,
  reports: ComponentReport[],
): { components: Record<string, ComponentState>; ids: string[]; triggers: string[] } | undefined {
  const failed = reports.filter((r) => r.result === 'failed').map((r) => r.id);
  const triggers = failed.filter((id) => rollbackModeOf(desired, id) === 'auto');
  if (triggers.length === 0) return undefined;
  const touched = desired.rollback.scope === 'failed' ? failed : reports.filter((r) => CHANGED.has(r.result)).map((r) => r.id);
  const ids = touched.filter((id) => rollbackModeOf(desired, id) !== 'off');
  return { components: restoreComponents(after.components, before.components, ids), ids, triggers };
}

/** `after` with the components `ids` put back as they were in `before` (or removed if they did not exist). */
export function restoreComponents(
  after: Record<string, ComponentState>,
  before: Record<string, ComponentState>,
  ids: string[],
): Record<string, ComponentState> {
  const out = { ...after };
  for (const id of ids) {
    const was = before[id];
    if (was) out[id] = was;
    else delete out[id];
  }
  return out;
}

/**
 * A desired stack made of recorded component states (the target of a rollback). Files are
 * resolved against the directory the component is defined in now, or the stack directory.
 */
export function desiredFromRecorded(
  current: DesiredStack,
  components: Record<string, ComponentState>,
): { desired: DesiredStack; graph: DependencyGraph } {
  const out = new Map<string, DesiredComponent>();
  for (const [id, s] of Object.entries(components)) {
    if (s.status === 'create-failed') continue; // never existed: nothing to restore
    const [service, name] = id.split('/') as [string, string];
    const now = current.components.get(id);
    out.set(id, {
      id,
      service,
      name,
      kind: s.kind,
      target: s.target,
      spec: s.spec,
      dependsOn: s.dependsOn,
      references: collectReferences(s.spec),
      baseDir: now?.baseDir ?? current.dir,
      source: now?.source ?? { file: '', display: `state: ${id}`, docIndex: 0 },
      specHash: s.specHash,
      // The artifact it ran, taken from the build cache by its key: a rollback never rebuilds.
      ...(s.artifact ? { build: { key: s.artifact.key, cache: 'hit' as const, digest: s.artifact.digest } } : {}),
    });
  }
  const graph = buildGraph(
    [...out.values()].map((c) => ({ id: c.id, dependsOn: [...c.dependsOn, ...c.references.map((r) => r.component)] })),
  );
  // Each service at the version it was recorded with, so the ledger and the next state say so.
  const services = new Map(current.services);
  for (const [id, s] of Object.entries(components)) {
    const service = id.split('/')[0]!;
    const known = current.services.get(service);
    services.set(service, {
      name: service,
      source: known?.source ?? { file: '', display: `state: ${service}`, docIndex: 0 },
      ...(s.serviceVersion ? { version: s.serviceVersion } : {}),
    });
  }
  return { desired: { ...current, services, components: out }, graph };
}

/** What a rollback returns to: a serial, the last known good version, or the version a run started from. */
export type RollbackTarget = number | 'last-good' | { beforeRun: string };

/**
 * The state version a `deployer rollback` restores; for `--last-good`, `{ nothing }` saying why
 * when the current version is the only good one (nothing is to be changed then).
 */
export async function versionToRestore(
  store: StateStore,
  current: StackState | undefined,
  to: RollbackTarget,
): Promise<StackState | { nothing: string }> {
  if (!current) throw new InvalidInputError('there is nothing to roll back: this stack has no recorded state yet');
  const serial =
    to === 'last-good'
      ? await lastGoodSerial(store, current)
      : typeof to === 'number'
        ? to
        : await serialBeforeRun(store, current, to.beforeRun);
  if (serial === undefined) {
    return {
      nothing: `the current version (serial ${current.serial}) is the only good one: no earlier version of this stack succeeded and was not rolled back, so there is nothing to go back to. See \`deployer state history\`, or choose a version with \`deployer rollback --to <serial>\`.`,
    };
  }
  if (serial === current.serial) throw new InvalidInputError(`serial ${serial} is the current version: there is nothing to roll back`);
  const v = await store.readVersion(current.stack, current.environment, serial);
  if (!v)
    throw new InvalidInputError(`no stored version ${serial} of ${current.stack}/${current.environment}`, [
      'See the versions with `deployer state history` (old versions are pruned after 90 days).',
    ]);
  return v;
}

/** A service's version as recorded: its Service `version`, else a hash of its components' specs. */
export function serviceVersion(components: Record<string, ComponentState>, service: string): string {
  const mine = Object.entries(components).filter(([id]) => id.startsWith(`${service}/`));
  // The newest deployment of the service says its version (an unchanged component keeps an older one).
  const named = mine
    .filter(([, c]) => c.serviceVersion)
    .sort(([, a], [, b]) => b.updatedAt.localeCompare(a.updatedAt))[0]?.[1].serviceVersion;
  return versionOf(
    named,
    mine.map(([, c]) => c.specHash),
    mine.flatMap(([, c]) => (c.artifact ? [c.artifact.digest] : [])),
  );
}

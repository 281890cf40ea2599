/**
 * The engine of one run: the Pulumi CLI provisioned before the lock is taken (only when the run
 * will need it), and one engine created on first need, remembered for the run's summary and its
 * clean-up. The executor's unit tests give their own engine (RunDependencies.engine) instead.
 */
import path from 'node:path';
import type { Settings } from '../config/index.js';
import {
  createEngine,
  ensurePulumiCli,
  installCommand,
  missingPlugins,
  preloadEngine,
  resolvePassphrase,
  type ComponentEngine,
  type Engine,
  type PulumiCli,
} from '../engine/index.js';
import { PulumiUnavailableError } from '../errors.js';
import type { DesiredStack } from '../model/desired.js';
import type { StateStore } from '../state/index.js';
import type { Target } from '../targets/index.js';
import type { EngineRequest, RunContext } from './context.js';

/** The engine of a run: created on first need, remembered for the summary and the clean-up. */
export interface EngineSlot {
  get(desired: DesiredStack): Promise<ComponentEngine>;
  readonly current: ComponentEngine | undefined;
}

/** What provisioning needs to know of the run. */
export interface EngineNeed {
  ctx: RunContext;
  store: StateStore;
  target: Target;
  runId: string;
  /** Whether the run will reach Pulumi at all (a no-op run never does). */
  needsEngine: () => Promise<boolean>;
}

/** A target's provider plugins must be installed before a run that needs them takes its lock. */
async function refuseMissingPlugins(cli: PulumiCli, target: Target): Promise<void> {
  const missing = await missingPlugins(cli, target.plugins ?? []);
  if (missing.length === 0) return;
  throw new PulumiUnavailableError(
    `the ${target.name} target needs Pulumi's ${missing.map((p) => `${p.name} provider plugin v${p.version.replace(/^v/, '')}`).join(' and ')}, which is not installed`,
    [
      `install it with: ${missing.map(installCommand).join(' && ')} (docs/aws-target.md); it is downloaded from github.com/pulumi`,
      'nothing was changed: no lock was taken and nothing was recorded',
    ],
  );
}

/**
 * Provisioning the Pulumi CLI can take minutes (a build from source on a new machine): it
 * happens before the lock is taken and before anything is recorded, and only when the plan as
 * it stands has changes (a no-op run never needs Pulumi).
 */
export async function provisionEngine(run: EngineNeed): Promise<EngineSlot> {
  const { ctx, store, target, runId } = run;
  let cli: PulumiCli | undefined;
  const provision = async (): Promise<PulumiCli> =>
    (cli ??= await ensurePulumiCli({ onProgress: (message) => ctx.listener({ type: 'setup', message }) }));
  const custom = ctx.dependencies?.engine;
  if (!custom && (await run.needsEngine())) {
    preloadEngine();
    await refuseMissingPlugins(await provision(), target);
  }
  const create =
    custom ??
    (async (r: EngineRequest) =>
      startEngine({
        settings: ctx.settings,
        store: r.store,
        desired: r.desired,
        runId: r.runId,
        targetEnv: { ...r.target.engineEnv(), ...ctx.engineEnv },
        cli: await provision(),
      }));
  let engine: ComponentEngine | undefined;
  // One engine per run, also when components ask for it at the same moment; a failed start is tried again.
  let starting: Promise<ComponentEngine> | undefined;
  return {
    get: (desired) =>
      (starting ??= create({ runId, desired, store, target }).then(
        (e) => (engine = e),
        (err: unknown) => {
          starting = undefined;
          throw err;
        },
      )),
    get current() {
      return engine;
    },
  };
}

export interface EngineStart {
  settings: Settings;
  store: StateStore;
  desired: DesiredStack;
  /** The run whose processes it marks (absent: a read-only look, such as drift detection). */
  runId?: string;
  targetEnv: Record<string, string>;
  cli: PulumiCli;
  /** The directory under the stack's workspaces its own are made in (default: the runs' own). */
  workspaces?: string;
}

/** Where the Pulumi workspaces of a stack's environment live (a run's directly, others' below). */
export function workspacesRoot(settings: Pick<Settings, 'dir'>, desired: Pick<DesiredStack, 'name' | 'environment'>): string {
  return path.join(settings.dir, '.deployer', 'workspaces', desired.name, desired.environment);
}

/**
 * Whether components share Pulumi operations. Under service or component locks other runs deploy
 * other components of this stack at the same time: a shared operation is only safe when one run
 * owns every component (a stack lock).
 */
export function sharesOperations(desired: Pick<DesiredStack, 'lockLevel'>): boolean {
  return desired.lockLevel === 'stack';
}

/** The engine over the stack's Pulumi backend, with the state's passphrase. */
export async function startEngine(o: EngineStart): Promise<Engine> {
  const root = workspacesRoot(o.settings, o.desired);
  return createEngine({
    cli: o.cli,
    backendUrl: o.store.pulumiBackend(o.desired.name, o.desired.environment),
    workRoot: o.workspaces ? path.join(root, o.workspaces) : root,
    passphrase: await resolvePassphrase(o.store.localRoot ?? path.join(o.settings.dir, '.deployer')),
    env: o.targetEnv,
    ...(o.runId ? { runId: o.runId } : {}),
    batching: sharesOperations(o.desired),
  });
}

/**
 * The `local` target: real things on this machine, made through the real Pulumi engine with
 * dynamic providers — a MicroService is a supervised process behind a local proxy on its port,
 * an S3 bucket is a directory. Used by the quick start and the end-to-end tests.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CapacityExceededError, InvalidInputError, PortInUseError } from '../../errors.js';
import type { DesiredComponent } from '../../model/desired.js';
import type { StackState } from '../../model/state.js';
import { distFile } from '../../package-info.js';
import { batchable } from '../../util/resource-scope.js';
import type {
  DeployedRef,
  JobRun,
  LifecycleAction,
  PreflightOptions,
  RolloutReport,
  ServiceStatus,
  Target,
  TargetContext,
  TargetFinding,
} from '../target.js';
import { checkLocalSecrets, isSecretRef, resolveLocalSecret } from './secrets.js';
import type { RolloutStrategy } from './protocol.js';
import { decideStrategy, rollbackStrategy } from './strategy.js';
import { allocatePort, DEFAULT_PORT_RANGE } from './ports.js';
import { discoveryVariable } from './registry.js';
import { parseSchedule } from './schedule.js';
import { resourceRequestOf } from './limits.js';
import type { CronSpec } from './protocol.js';
import { PROCESS_KINDS } from '../../model/stack-infra.js';
import { parseDuration } from '../../util/duration.js';

/**
 * Health check defaults (docs/local-target.md), chosen so that a failing new version is noticed
 * within seconds: 3 unhealthy answers 1 s apart fail it, so a rollback starts well within 30 s.
 */
export const LOCAL_HEALTH_DEFAULTS = {
  path: '/healthz',
  interval: 1,
  timeout: 2,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
  gracePeriod: 0,
};
export const LOCAL_START_TIMEOUT_S = 30;

/** What the local target can make on this machine. */
export const LOCAL_KINDS = new Set(['MicroService', 'Worker', 'CronJob', 'S3']);

/** Health check defaults of a Worker without one: its processes healthy while they run (checked every second). */
export const LOCAL_WORKER_HEALTH_DEFAULTS = { interval: 1, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 3, gracePeriod: 0 };

/** A Worker's `healthCheck` (a command, with `retries`) as the supervisor runs it. */
function workerHealth(hc: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!hc) return LOCAL_WORKER_HEALTH_DEFAULTS;
  const { retries, ...rest } = hc;
  return {
    ...LOCAL_WORKER_HEALTH_DEFAULTS,
    healthyThreshold: 1,
    ...rest,
    ...(retries !== undefined ? { unhealthyThreshold: retries } : {}),
  };
}

/** A CronJob's schedule and time zone the local target cannot run, at their place in the YAML. */
function scheduleProblems(spec: Record<string, unknown>): TargetFinding[] {
  try {
    parseSchedule(String(spec['schedule']), (spec['timezone'] as string | undefined) ?? 'UTC');
    return [];
  } catch (err) {
    const pointer = /timezone/i.test((err as Error).message) ? '/spec/timezone' : '/spec/schedule';
    return [{ pointer, message: (err as Error).message, rule: 'target:local' }];
  }
}

/** A CronJob's schedule and rules as its supervisor runs them. */
function cronOf(spec: Record<string, unknown>): CronSpec {
  const timeout = spec['timeout'] as string | undefined;
  return {
    schedule: String(spec['schedule']),
    timezone: (spec['timezone'] as string | undefined) ?? 'UTC',
    ...(timeout !== undefined ? { timeoutMs: parseDuration(timeout, 'spec.timeout') } : {}),
    retries: (spec['retries'] as number | undefined) ?? 0,
    concurrency: (spec['concurrency'] as CronSpec['concurrency'] | undefined) ?? 'forbid',
    suspend: (spec['suspend'] as boolean | undefined) ?? false,
  };
}

/** "a Worker", "an S3": for messages that name a component's kind. */
const aKind = (kind: string): string => `${/^[AEIOSU]/.test(kind) ? 'an' : 'a'} ${kind}`;

/**
 * The outputs program() returns for each kind. The kind's schema declares the same list for
 * `local` (`x-deployer-target-outputs`), which is what discovery checks a `valueFrom` against;
 * outputs.test.ts keeps the two equal.
 */
export const LOCAL_OUTPUTS = {
  MicroService: ['url', 'port', 'pid'],
  Worker: ['name', 'pid'],
  CronJob: ['name', 'pid'],
  S3: ['bucketName', 'path', 'url', 'arn'],
} as const satisfies Record<string, readonly string[]>;

export function localRoot(stackDir: string): string {
  return path.join(stackDir, '.deployer', 'local');
}

/** Where a local MicroService's supervisor keeps its files (desired, status, logs). */
export function runtimeDirOf(ctx: { stackDir: string; stack: string; environment: string }, c: { service: string; name: string }): string {
  return path.join(localRoot(ctx.stackDir), ctx.stack, ctx.environment, 'services', c.service, c.name);
}

/** The port `port: auto` gave the component at its first deploy (recorded in state), else a free one of the range. */
async function autoPort(ctx: TargetContext): Promise<number> {
  const recorded = ctx.recorded?.['port'];
  if (typeof recorded === 'number') return recorded;
  return allocatePort(ctx.portRange ?? DEFAULT_PORT_RANGE);
}

/**
 * Service discovery: the URL of each service the component depends on, as
 * DEPLOYER_SERVICE_<SERVICE>_<COMPONENT>_URL, so a process finds its dependencies without
 * hard-coded ports. Its own `env` wins over these.
 */
export function discoveryEnv(dependencies: Record<string, Record<string, unknown>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [id, outputs] of Object.entries(dependencies))
    if (typeof outputs['url'] === 'string') env[discoveryVariable(id)] = outputs['url'];
  return env;
}

export class LocalTarget implements Target {
  readonly name = 'local' as const;
  readonly canApply = true;
  readonly volatileOutputs = ['__provider', 'pid', 'generation'];

  check(c: DesiredComponent): TargetFinding[] {
    if (!LOCAL_KINDS.has(c.kind)) {
      return [
        {
          pointer: '/kind',
          message: `the local target cannot deploy ${c.kind}: it runs MicroService, Worker, CronJob and S3 (use target: aws for the others)`,
          rule: 'target:local',
        },
      ];
    }
    const problems = checkLocalSecrets(c);
    if (PROCESS_KINDS.has(c.kind) && !Array.isArray(c.spec['command'])) {
      problems.push({
        pointer: '/spec/command',
        message: `the local target runs ${aKind(c.kind)} as a process: set spec.command (e.g. ["node", "${c.kind === 'Worker' ? 'worker' : 'server'}.js"])`,
        rule: 'target:local',
      });
    }
    if (c.kind === 'CronJob') problems.push(...scheduleProblems(c.spec));
    return problems;
  }

  engineEnv(): Record<string, string> {
    return { DEPLOYER_LOCAL_RUNTIME: pathToFileURL(distFile('targets/local/runtime.js')).href };
  }

  async restart(c: { id: string; service: string; name: string; kind: string }, ctx: TargetContext): Promise<string> {
    if (!PROCESS_KINDS.has(c.kind))
      throw new InvalidInputError(`${c.id} is ${aKind(c.kind)}: only a MicroService, a Worker or a CronJob runs processes to restart`);
    const { restart } = await import('./microservice.js');
    const outs = await restart(runtimeDirOf(ctx, c), c.id);
    return `restarted: generation ${outs.generation} ${outs.url ? `serves ${outs.url}` : 'runs'}`;
  }

  async lifecycle(
    action: LifecycleAction,
    c: { id: string; service: string; name: string; kind: string },
    ctx: TargetContext,
    by: string,
  ): Promise<string> {
    if (!PROCESS_KINDS.has(c.kind))
      throw new InvalidInputError(`${c.id} is ${aKind(c.kind)}: only a MicroService, a Worker or a CronJob runs processes to ${action}`);
    const { startService, stopService } = await import('./lifecycle.js');
    const dir = runtimeDirOf(ctx, c);
    return action === 'stop' ? stopService(dir, c.id, by) : startService(dir, c.id);
  }

  async runJob(c: { id: string; service: string; name: string; kind: string }, ctx: TargetContext): Promise<JobRun> {
    if (c.kind !== 'CronJob') throw new InvalidInputError(`${c.id} is ${aKind(c.kind)}: only a CronJob runs on demand`);
    const { runJobNow } = await import('./lifecycle.js');
    return runJobNow(runtimeDirOf(ctx, c), c.id);
  }

  async preflight(
    changing: ReadonlyArray<{ component: DesiredComponent; recorded?: Record<string, unknown> }>,
    ctx: TargetContext,
    options: PreflightOptions,
  ): Promise<string[]> {
    const { limitWarnings, portProblems } = await import('./preflight.js');
    const { capacityNotes, capacityProblems, machineCapacity } = await import('./capacity.js');
    const problems = await portProblems(
      changing,
      (c) => runtimeDirOf(ctx, c),
      path.join(localRoot(ctx.stackDir), ctx.stack, ctx.environment, 'services'),
    );
    if (problems.length > 0) throw new PortInUseError(problems);
    const components = changing.map((x) => x.component);
    const machine = await machineCapacity(ctx.stackDir);
    const unfit = capacityProblems(components, options.all, machine);
    if (unfit.length > 0 && !options.ignoreCapacity) throw new CapacityExceededError(unfit);
    return [
      ...unfit.map((p) => `deployed despite --ignore-capacity: ${p}`),
      ...capacityNotes(components, options.all, machine),
      ...limitWarnings(components.filter((c) => PROCESS_KINDS.has(c.kind))),
    ];
  }

  async inspect(components: ReadonlyArray<DeployedRef>, ctx: TargetContext): Promise<ServiceStatus[]> {
    const { inspectService } = await import('./inspect.js');
    const now = new Date();
    return Promise.all(components.filter((c) => PROCESS_KINDS.has(c.kind)).map((c) => inspectService(c, runtimeDirOf(ctx, c), now)));
  }

  logFile(c: { service: string; name: string; kind: string }, ctx: TargetContext): string | undefined {
    return PROCESS_KINDS.has(c.kind) ? path.join(runtimeDirOf(ctx, c), 'app.log') : undefined;
  }

  async publish(state: StackState, ctx: TargetContext): Promise<void> {
    const { registryFile, registryOf, writeRegistry } = await import('./registry.js');
    await writeRegistry(registryFile(localRoot(ctx.stackDir), ctx.stack, ctx.environment), registryOf(state));
  }

  async lastRollout(c: { service: string; name: string; kind: string }, ctx: TargetContext): Promise<RolloutReport | undefined> {
    if (!PROCESS_KINDS.has(c.kind)) return undefined;
    const { files, readJson } = await import('./protocol.js');
    return readJson<RolloutReport>(files(runtimeDirOf(ctx, c)).rollout);
  }

  program(c: DesiredComponent, spec: Record<string, unknown>, ctx: TargetContext) {
    const root = path.join(localRoot(ctx.stackDir), ctx.stack, ctx.environment);
    // Secrets are read now, so that a missing one fails the component before Pulumi runs.
    const env = Object.entries((spec['env'] ?? {}) as Record<string, unknown>).map(([k, v]) =>
      isSecretRef(v) ? { k, v: resolveLocalSecret(c.id, k, v.secretRef, c.baseDir), secret: true } : { k, v: String(v), secret: false },
    );
    return batchable(async (): Promise<Record<string, unknown>> => {
      // Loaded here, inside the program (@pulumi/pulumi takes most of a second to import), and
      // always from the compiled file: Pulumi serializes the provider's source text, which must be
      // plain Node code, not a test runner's transform of it.
      const { LocalResource, secret } = (await import(
        pathToFileURL(distFile('targets/local/providers.js')).href
      )) as typeof import('./providers.js');
      if (PROCESS_KINDS.has(c.kind)) {
        const worker = c.kind !== 'MicroService';
        const cron = c.kind === 'CronJob' ? { cron: cronOf(spec) } : {};
        const replicas = (spec['replicas'] as number | undefined) ?? 1;
        const port = worker ? undefined : spec['port'] === 'auto' ? await autoPort(ctx) : spec['port'];
        const hc = spec['healthCheck'] as Record<string, unknown> | undefined;
        // Limits only when asked: a spec without them keeps its inputs as they were.
        const resources = resourceRequestOf(spec);
        const r = new LocalResource(
          c.kind,
          c.name,
          {
            component: c.id,
            runtimeDir: runtimeDirOf(ctx, c),
            command: spec['command'],
            // A built component runs the files its build produced, unpacked for its digest.
            cwd: ctx.artifact?.dir ?? c.baseDir,
            env: {
              ...discoveryEnv(ctx.dependencies ?? {}),
              ...Object.fromEntries(env.map((e) => [e.k, e.secret ? secret(e.v) : e.v])),
              ...(ctx.artifact ? { DEPLOYER_ARTIFACT: ctx.artifact.digest } : {}),
            },
            ...(worker ? { name: c.id } : { port }),
            healthCheck: worker ? workerHealth(hc) : { ...LOCAL_HEALTH_DEFAULTS, ...hc },
            startTimeout: LOCAL_START_TIMEOUT_S,
            replicas,
            ...(resources ? { resources } : {}),
            ...(ctx.crashBreaker ? { crashBreaker: ctx.crashBreaker } : {}),
            ...cron,
            strategy: (ctx.rollback ? rollbackStrategy : (s: RolloutStrategy) => s)(
              decideStrategy(spec['strategy'] as Parameters<typeof decideStrategy>[0], replicas),
            ),
          },
          worker ? ['pid', 'generation', 'running'] : ['url', 'pid', 'generation', 'running'],
        );
        return Object.fromEntries(LOCAL_OUTPUTS[c.kind as 'MicroService' | 'Worker' | 'CronJob'].map((o) => [o, r.output(o)]));
      }
      const bucketName =
        (spec['bucketName'] as string | undefined) ?? `${ctx.stack}-${ctx.environment.replace(/\//g, '-')}-${c.service}-${c.name}`;
      const r = new LocalResource(
        'S3',
        c.name,
        {
          component: c.id,
          bucketName,
          path: path.join(root, 'buckets', bucketName),
          versioning: spec['versioning'] ?? false,
          forceDestroy: spec['forceDestroy'] ?? false,
          publicAccess: spec['publicAccess'] ?? false,
          ...(spec['encryption'] !== undefined ? { encryption: spec['encryption'] } : {}),
        },
        ['url', 'arn'],
      );
      return Object.fromEntries(LOCAL_OUTPUTS.S3.map((o) => [o, r.output(o)]));
    });
  }
}

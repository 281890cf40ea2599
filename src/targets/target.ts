import type { PulumiFn } from '@pulumi/pulumi/automation/index.js';
import type { StackState } from '../model/state.js';
import type { DesiredComponent, TargetName } from '../model/desired.js';

/** A problem a target finds in a component, at a JSON pointer of its document. */
export interface TargetFinding {
  pointer: string;
  message: string;
  rule: string;
}

export interface TargetContext {
  stack: string;
  environment: string;
  /** The stack directory (local resources live under its `.deployer/`). */
  stackDir: string;
  /**
   * The component is being rolled back to a version it ran before: a target deploys it the
   * fastest safe way (no canary steps, no bake, never stopping what serves first).
   */
  rollback?: boolean;
  /** The artifact the component runs (`spec.build`): its digest and the directory its files are in on this machine. */
  artifact?: { digest: string; dir: string };
  /** What the component's last deployment produced, as recorded in state (a port `auto` allocated keeps it). */
  recorded?: Record<string, unknown>;
  /** The outputs of the components it depends on, by id, as this run has them (service discovery). */
  dependencies?: Record<string, Record<string, unknown>>;
  /** local: the ports `port: auto` draws from (the Stack's spec.local.portRange). */
  portRange?: readonly [number, number];
  /** local: the Stack's circuit breaker, which the supervisor applies to processes that die (absent: disabled). */
  crashBreaker?: { failureThreshold: number; recoveryTimeoutMs: number };
}

/**
 * How a target rolled out a new version of a component (seed 002's verify and switch): when
 * it started, when every new process was verified healthy, when traffic switched to the new
 * version entirely, and when it was done. Times are ISO 8601.
 */
export interface RolloutReport {
  generation: number;
  strategy: string;
  startedAt: string;
  verifiedAt?: string;
  switchedAt?: string;
  finishedAt: string;
}

/** What a component's program would make, from a run of it that makes nothing (`plan --resources`). */
export interface DescribedResources {
  /** Each resource by its Pulumi type and logical name, in the order the program made them. */
  resources: Array<{ type: string; name: string }>;
  /** The outputs it would return, as well as a run without the cloud can tell them. */
  outputs: Record<string, unknown>;
}

/**
 * Translates components into Pulumi resources for one platform (`local`, `aws`).
 * A target never runs Pulumi itself: it returns the program, the engine runs it.
 */
export interface Target {
  readonly name: TargetName;
  /** False for a target that validates and plans but cannot deploy yet. */
  readonly canApply: boolean;
  /** What this target needs beyond the schema (e.g. `local` runs `command`, `aws` pulls `image`). */
  check(component: DesiredComponent): TargetFinding[];
  /** The inline Pulumi program deploying `component` with its references already resolved. */
  program(component: DesiredComponent, resolvedSpec: Record<string, unknown>, context: TargetContext): PulumiFn;
  /**
   * Outputs of its resources that change without anything drifting (a process id, a rollout's
   * generation, the serialized provider): drift detection does not compare them.
   */
  readonly volatileOutputs: readonly string[];
  /** Environment the engine (and the provider processes it starts) needs for this target. */
  engineEnv(): Record<string, string>;
  /** Provider plugins its programs need, checked before a run takes its lock (absent: none beyond the engine's own). */
  readonly plugins?: ReadonlyArray<{ kind: 'resource'; name: string; version: string }>;
  /**
   * Restarts what a deployed component runs, one process at a time, each healthy before the
   * next (seed 003's rolling restart); absent when the target cannot. Resolves to a summary.
   */
  restart?(component: { id: string; service: string; name: string; kind: string }, context: TargetContext): Promise<string>;
  /**
   * Stops a deployed component's processes on purpose (drift does not report it), or starts
   * them again as deployed (seed 003's lifecycle: `deployer stop|start`); absent when the target
   * cannot. `by` is who asked. Resolves to a summary once done (started: serving again).
   */
  lifecycle?(
    action: LifecycleAction,
    component: { id: string; service: string; name: string; kind: string },
    context: TargetContext,
    by: string,
  ): Promise<string>;
  /** Runs a deployed CronJob now, outside its schedule (`deployer run`); resolves once the run has ended. Absent: the target cannot. */
  runJob?(component: { id: string; service: string; name: string; kind: string }, context: TargetContext): Promise<JobRun>;
  /**
   * Runs the component's program without deploying anything and says what it would make;
   * absent when the target cannot (`plan --resources`).
   */
  describe?(component: DesiredComponent, resolvedSpec: Record<string, unknown>, context: TargetContext): Promise<DescribedResources>;
  /**
   * Checks, before anything deploys, that the machine can take the components about to be
   * deployed (local: their ports are free or already theirs); throws a DeployerError naming
   * each that cannot. Resolves to what the user should know (local: a cpu or memory limit this
   * machine cannot apply, and why). Absent: nothing to check.
   */
  preflight?(
    changing: ReadonlyArray<{ component: DesiredComponent; recorded?: Record<string, unknown> }>,
    context: TargetContext,
    options: PreflightOptions,
  ): Promise<string[]>;
  /**
   * What runs now for each deployed component that runs something (`deployer services`): its
   * state, processes, ports, restarts, resource use, a health check made now. Absent: the
   * target does not say.
   */
  inspect?(components: ReadonlyArray<DeployedRef>, context: TargetContext): Promise<ServiceStatus[]>;
  /** The file a deployed component's processes write their output to (`deployer logs`); absent: the target keeps none. */
  logFile?(component: { service: string; name: string; kind: string }, context: TargetContext): string | undefined;
  /** After a run: makes what it deployed findable (local: the registry file of every service's endpoints). */
  publish?(state: StackState, context: TargetContext): Promise<void>;
  /** The last rollout of a deployed component, if the target knows it (absent: the target does not say). */
  lastRollout?(
    component: { id: string; service: string; name: string; kind: string },
    context: TargetContext,
  ): Promise<RolloutReport | undefined>;
}

/** One run of a CronJob: how it ended, after how many attempts. */
export interface JobRun {
  id: string;
  startedAt: string;
  finishedAt?: string;
  status: 'running' | 'succeeded' | 'failed' | 'timed-out' | 'skipped';
  attempts: number;
  detail?: string;
}

/** What `deployer stop|start` does to a component. */
export type LifecycleAction = 'stop' | 'start';

/** A deployed component, as state records it. */
export interface DeployedRef {
  id: string;
  service: string;
  name: string;
  kind: string;
  outputs: Record<string, unknown>;
}

export type ServiceState = 'running' | 'starting' | 'restarting' | 'stopped' | 'failed';

/** What runs for one component now (seed 003's service registry). */
export interface ServiceStatus {
  id: string;
  kind: string;
  state: ServiceState;
  url?: string;
  port?: number;
  /** The generation serving traffic. */
  generation?: number;
  /** The process that supervises the component's processes. */
  supervisorPid?: number;
  replicas: ReplicaStatus[];
  /** Processes restarted after they died, since the supervisor started. */
  restarts: number;
  /** A health check made as the status was taken. */
  health?: { status: 'healthy' | 'unhealthy'; checkedAt: string };
  /** When the supervisor started (the service's uptime counts from it). */
  startedAt?: string;
  uptimeMs?: number;
  /** Why it failed, or what it is doing. */
  detail?: string;
  /** Who stopped it through `deployer stop` (absent: it was not, or it runs again). */
  stoppedBy?: string;
  /** How its processes' cpu and memory are limited on this machine, and what could not be. */
  limits?: { mechanism: string; memory?: string; cpu?: string; warnings: string[] };
  /** Processes the kernel killed for going over their memory limit. */
  oomKills?: number;
  /** The last time one of its processes died, and how. */
  lastExit?: { at: string; reason: string };
  /** The circuit breaker over its processes that die, once one died early: position, counts, when it tries again. */
  breaker?: { position: 'closed' | 'open' | 'half-open'; failures: number; oomKills: number; retryAt?: string; reason?: string };
  /** The last round of the supervisor's own periodic health checks. */
  lastHealthCheck?: { at: string; status: 'healthy' | 'unhealthy'; failing: number };
  /** A CronJob: when it runs next (none while suspended or stopped) and how its last run went; its `replicas` are the runs in progress. */
  cron?: { nextRunAt?: string; suspended: boolean; lastRun?: JobRun & { trigger: string } };
}

export interface ReplicaStatus {
  pid?: number;
  port: number;
  generation: number;
  /** CPU time the process used so far (user + system), seconds. */
  cpuSeconds?: number;
  /** Resident memory, bytes. */
  rssBytes?: number;
}

export interface PreflightOptions {
  /** Every component of the stack as it will be (what the whole stack asks of the machine). */
  all: readonly DesiredComponent[];
  /** `--ignore-capacity`: what does not fit is told, not refused. */
  ignoreCapacity: boolean;
}

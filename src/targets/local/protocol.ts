/**
 * The files through which a local MicroService's provider and its supervisor talk, in the
 * component's runtime directory: the provider writes `desired.json` and sends SIGHUP; the
 * supervisor rolls out that generation and reports in `status.json`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readJsonIfValid, writeFileAtomic } from '../../util/atomic-write.js';
import type { SwitchParticipant } from '../switch-barrier.js';
import type { AppliedLimits, ResourceRequest } from './limits.js';
import type { CrashBreakerPolicy, CrashBreakerStatus } from './crash-breaker.js';
import type { LastHealthCheck } from './liveness.js';

export interface ProcessSpec {
  command: string[];
  cwd: string;
  env: Record<string, string>;
  /** The public port (a MicroService); absent for a Worker, which serves no traffic. */
  port?: number;
  healthCheck: {
    /** An HTTP check: GET this path on the process's port (a MicroService). */
    path?: string;
    /** A command check (a Worker's): exit code 0 is healthy. With neither, a running process is healthy. */
    command?: string[];
    /** Seconds */
    interval: number;
    timeout: number;
    healthyThreshold: number;
    unhealthyThreshold: number;
    gracePeriod: number;
  };
  /** Seconds one new process has to become healthy. */
  startTimeout: number;
  /** Processes to run (behind the proxy, for a MicroService; default 1). */
  replicas?: number;
  /** How a new generation replaces the serving one (default: rolling, one at a time). */
  strategy?: RolloutStrategy;
  /** `memory` (MiB) and `cpu` (1024 = one CPU) of each process, enforced as this machine allows (limits.ts). */
  resources?: ResourceRequest;
  /** A CronJob: the command runs on this schedule instead of running all the time (cron-runner.ts). */
  cron?: CronSpec;
}

/** A CronJob's schedule and its runs' rules, as the local target runs them. */
export interface CronSpec {
  schedule: string;
  timezone: string;
  /** A run still going after this long is stopped and counts as failed. */
  timeoutMs?: number;
  /** Retries of a failed run. */
  retries: number;
  /** A run due while one still runs: run both, skip the new one, or stop the old one. */
  concurrency: 'allow' | 'forbid' | 'replace';
  /** Keep the job but do not run it on its schedule. */
  suspend: boolean;
}

/** One run of a CronJob, as `runs.json` keeps it. */
export interface CronRun {
  id: string;
  trigger: 'schedule' | 'manual';
  startedAt: string;
  finishedAt?: string;
  status: 'running' | 'succeeded' | 'failed' | 'timed-out' | 'skipped';
  /** Attempts made (1 + retries used). */
  attempts: number;
  /** How the last attempt ended, in words. */
  detail?: string;
}

/** A deployment strategy with every parameter decided (see strategy.ts for the defaults). */
export interface RolloutStrategy {
  type: 'rolling' | 'blue-green' | 'canary' | 'big-bang';
  /** Rolling: old processes that may be stopped before their replacements are healthy. */
  maxUnavailable: number;
  /** Rolling: new processes started above the replica count at a time. */
  maxSurge: number;
  /** Canary: traffic steps, in order; after the last, the new version takes everything. */
  steps: Array<{ percentage: number; bakeMs: number }>;
  /** Canary: the largest share of 5xx answers (percent) the new version may give while it bakes. */
  maxErrorRate: number;
  /** Blue-green: how long the old set keeps running after the switch. */
  terminationWaitMs: number;
  /** The whole rollout (not counting bake time) must be healthy within this. */
  timeoutMs: number;
}

export interface Desired {
  generation: number;
  spec: ProcessSpec;
  /**
   * `restart`: replace the processes even when they already run this spec (a rolling restart).
   * Otherwise a generation whose spec is what serves now is adopted, not rolled out again.
   */
  reason?: 'deploy' | 'restart';
  /** A multi-region run holds this generation's switch until every region is ready (targets/switch-barrier.ts). */
  barrier?: SwitchParticipant;
  /** The Stack's circuit breaker, applied to the processes that die (crash-breaker.ts); absent: disabled. */
  breaker?: CrashBreakerPolicy;
}

/** Whether processes of `serving` are what `wanted` asks for (the strategy is how to get there, not what runs). */
export function sameProcesses(serving: ProcessSpec, wanted: ProcessSpec): boolean {
  const { strategy: _a, ...a } = serving;
  const { strategy: _b, ...b } = wanted;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
  );
}

/** `serving.json`: the generation that serves and what it runs. */
export interface Serving {
  generation: number;
  spec: ProcessSpec;
}

export type SupervisorState = 'starting' | 'ready' | 'failed' | 'restarting' | 'stopped';

export interface Status {
  generation: number;
  state: SupervisorState;
  /** Generation that serves traffic now (the last that became healthy). */
  servingGeneration: number;
  error?: string;
  supervisorPid: number;
  proxyPort?: number;
  backendPort?: number;
  childPid?: number;
  /** The processes serving now. */
  replicas?: Array<{ pid: number | undefined; port: number; generation: number; weight: number }>;
  /** How the processes' cpu and memory are limited here, and what could not be (limits.ts). */
  limits?: AppliedLimits;
  /** Processes the kernel killed for going over their memory limit, since the supervisor started. */
  oomKills?: number;
  /** The last time a serving process died, and how. */
  lastExit?: { at: string; reason: string };
  /** The circuit breaker of its processes, once one died early (crash-breaker.ts). */
  breaker?: CrashBreakerStatus;
  /** The last round of the supervisor's periodic health checks (liveness.ts). */
  lastHealthCheck?: LastHealthCheck;
  /** A CronJob: when it runs next, whether it is suspended, and its last run. */
  cron?: { nextRunAt?: string; suspended: boolean; lastRun?: CronRun };
  /** What the rollout is doing, for progress output ("canary 10 %: baking 5 s"). */
  phase?: string;
  restarts: number;
  updatedAt: string;
}

export const files = (dir: string) => ({
  desired: path.join(dir, 'desired.json'),
  /** A CronJob's last runs, newest last (cron-runner.ts). */
  runs: path.join(dir, 'runs.json'),
  /** The runs `deployer run` asks for, a file named by each run's id, read on SIGUSR1. */
  runNow: path.join(dir, 'run-now'),
  /** The token of the newest supervisor launched for this directory: an older one that boots late gives way. */
  launch: path.join(dir, 'launch.token'),
  status: path.join(dir, 'status.json'),
  /** What serves now (the spec of the serving generation), for drift detection: read() reports it. */
  serving: path.join(dir, 'serving.json'),
  /** When the last rollout started, was verified healthy, switched traffic and finished (targets' RolloutReport). */
  rollout: path.join(dir, 'rollout.json'),
  /** Present while the component is stopped through `deployer stop` (a StoppedMark): drift does not report it. */
  stopped: path.join(dir, 'stopped.json'),
  supervisorLog: path.join(dir, 'supervisor.log'),
  appLog: path.join(dir, 'app.log'),
});

/** `stopped.json`: who stopped the component through `deployer stop`, and when. */
export interface StoppedMark {
  by: string;
  at: string;
}

/** A protocol file's content; undefined when absent or being written. */
export const readJson = readJsonIfValid;

/** Written readable by the owner only: desired.json holds the service's environment, secrets included. */
export async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', 0o600);
}

/** The last `lines` lines of a log file, for error messages. */
export async function tail(file: string, lines = 15): Promise<string> {
  const body = await fs.readFile(file, 'utf8').catch(() => '');
  return body.trimEnd().split('\n').slice(-lines).join('\n');
}

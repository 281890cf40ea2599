/**
 * One process of a local service, for the supervisor: started on a private port inside its cpu
 * and memory limits (limits.ts) with only the environment it is given, its output stamped into
 * the app log, its death told once with how it died; waited on until healthy; stopped gently.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../util/net.js';
import type { AppLog } from './app-log.js';
import { describeCheck, probe, waitHealthy } from './health.js';
import { limitsFor, type AppliedLimits } from './limits.js';
import type { ProcessSpec } from './protocol.js';
import type { Replica } from './rollout.js';

export interface Running extends Replica {
  child: ChildProcess;
  /** Set when we stop it on purpose, so its exit is not treated as a crash. */
  stopping: boolean;
  /** When it was started (one that dies before the breaker's recovery time counts as a failure). */
  startedAt: number;
  /** Set when the periodic health checks found it hung and it was killed: how many checks it failed. */
  hung?: number;
  /** Why it could not be started at all (no 'exit' follows then). */
  spawnError?: string;
  /** Settles once the process has ended, or could not be started: its exit code (null: a signal, or no process). */
  ended: Promise<number | null>;
}

/** How a process that was not being stopped died. */
export interface Death {
  how: string;
  /** Its exit code (null when a signal ended it). */
  code: number | null;
  /** The kernel killed it for going over its memory limit. */
  oom: boolean;
}

/** Variables a service process inherits from the supervisor; nothing of deployer's or Pulumi's own. */
const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'USER', 'SHELL', 'NODE_OPTIONS'];

export async function spawnReplica(o: {
  spec: ProcessSpec;
  generation: number;
  /** The cgroup name of the component; the process's own goes below it, by port. */
  cgroup: string;
  appLog: AppLog;
  /** How its limits were applied on this machine. */
  limited: (applied: AppliedLimits) => void;
  /** It died while nobody was stopping it. */
  died: (running: Running, death: Death) => void;
}): Promise<Running> {
  const { spec } = o;
  const port = await freePort();
  const env: Record<string, string> = {};
  for (const k of INHERITED_ENV) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  // A MicroService listens on the private port it is given; a Worker listens on none.
  Object.assign(env, spec.env, spec.port !== undefined ? { PORT: String(port) } : {});
  // Inside its cpu and memory limits from its first instruction.
  const limits = limitsFor(`${o.cgroup}/${port}`, spec.resources ?? {});
  if (spec.resources) o.limited(limits.applied);
  const [program, ...args] = limits.command(spec.command);
  const child: ChildProcess = spawn(program!, args, { cwd: spec.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  o.appLog.attach(child);
  let ended!: (code: number | null) => void;
  const running: Running = {
    ended: new Promise((resolve) => (ended = resolve)),
    child,
    port,
    generation: o.generation,
    spec,
    pid: child.pid,
    stopping: false,
    exited: false,
    startedAt: Date.now(),
  };
  child.on('error', (err) => {
    // Spawning failed (e.g. ENOENT): there is no process, and no 'exit' will follow.
    running.spawnError = `cannot start ${spec.command[0]}: ${err.message}`;
    if (child.pid === undefined) {
      running.exited = true;
      ended(null);
    }
  });
  child.on('exit', (code, signal) => {
    running.exited = true;
    ended(code);
    const oom = limits.oomKills() > 0;
    limits.release();
    if (running.stopping) return;
    const how = oom
      ? `killed by the kernel: over its memory limit (${limits.applied.memory})`
      : running.hung
        ? `killed: it failed its health check ${running.hung} times in a row`
        : signal
          ? `signal ${signal}`
          : `exit code ${code}`;
    o.died(running, { how, oom, code });
  });
  return running;
}

/** Waits until `running` passes its health check; `leftMs` of the rollout's time is left. Rejects when it dies or never does. */
export async function replicaHealthy(running: Running, leftMs: number, appLogFile: string): Promise<void> {
  const { spec } = running;
  const hc = spec.healthCheck;
  try {
    await waitHealthy({
      port: running.port,
      path: hc.path ?? '/',
      check: () => probe(running),
      what: describeCheck(hc),
      healthyThreshold: hc.healthyThreshold,
      unhealthyThreshold: hc.unhealthyThreshold,
      gracePeriodMs: hc.gracePeriod * 1000,
      intervalMs: hc.interval * 1000,
      timeoutMs: Math.max(0, Math.min(spec.startTimeout * 1000, leftMs)),
      checkTimeoutMs: hc.timeout * 1000,
      abandoned: () =>
        running.spawnError ?? (running.exited ? `the process exited before it became healthy (see ${appLogFile})` : undefined),
    });
  } catch (err) {
    const message = (err as Error).message;
    throw leftMs < spec.startTimeout * 1000 && /did not pass/.test(message) ? new Error(`${message} (deployment timeout reached)`) : err;
  }
}

/** Ends a process that is out of the traffic: SIGTERM, then SIGKILL after 5 s. */
export async function endReplica(running: Running): Promise<void> {
  running.stopping = true;
  if (running.exited || running.child.pid === undefined) return;
  running.child.kill('SIGTERM');
  const killed = await Promise.race([running.ended.then(() => true), new Promise<boolean>((res) => setTimeout(() => res(false), 5_000))]);
  if (!killed) {
    running.child.kill('SIGKILL');
    await running.ended;
  }
}

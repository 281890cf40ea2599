/**
 * The `local` MicroService as a Pulumi dynamic resource: create starts a supervisor for the
 * component and waits until the service is healthy behind its port; update hands the
 * supervisor a new generation (start new, check, switch, stop old); read reports whether it
 * really runs; delete stops the whole process group and removes the runtime directory.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { openSync, closeSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { distFile } from '../../package-info.js';
import { checkOnce } from './health.js';
import {
  files,
  readJson,
  tail,
  writeJson,
  type Desired,
  type ProcessSpec,
  type Serving,
  type Status,
  type StoppedMark,
} from './protocol.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { isAlive, signalGroup } from '../../util/process.js';
import { decideStrategy, rolloutBudgetMs } from './strategy.js';
import { barrierFromEnv } from '../switch-barrier.js';
import type { CrashBreakerPolicy } from './crash-breaker.js';

/** A MicroService (its processes behind a proxy on its port), a Worker (its processes, no port) or a CronJob (its command on a schedule): supervised alike. */
export interface MicroServiceInputs extends ProcessSpec {
  kind: 'MicroService' | 'Worker' | 'CronJob';
  component: string;
  runtimeDir: string;
  /** The Stack's circuit breaker for processes that die; not what runs, so changing it restarts nothing. */
  crashBreaker?: CrashBreakerPolicy;
}

export interface MicroServiceOutputs extends MicroServiceInputs {
  /** Where a MicroService answers; a Worker has none. */
  url?: string;
  pid: number;
  generation: number;
  running: boolean;
}

const SUPERVISOR = 'targets/local/supervisor.js';

export async function create(inputs: MicroServiceInputs): Promise<{ id: string; outs: MicroServiceOutputs }> {
  await fs.mkdir(inputs.runtimeDir, { recursive: true });
  const existing = await liveSupervisor(inputs.runtimeDir);
  try {
    const outs = existing ? await roll(inputs, existing) : await startSupervisor(inputs);
    return { id: inputs.runtimeDir, outs };
  } catch (err) {
    // A create that fails leaves nothing running behind.
    await stop(inputs.runtimeDir);
    throw err;
  }
}

export async function update(_id: string, _olds: MicroServiceOutputs, news: MicroServiceInputs): Promise<{ outs: MicroServiceOutputs }> {
  const pid = await liveSupervisor(news.runtimeDir);
  if (pid === undefined) {
    // Gone, or stopped through `deployer stop`: deploying a change starts it again.
    await fs.mkdir(news.runtimeDir, { recursive: true });
    const outs = await startSupervisor(news);
    await fs.rm(files(news.runtimeDir).stopped, { force: true });
    return { outs };
  }
  return { outs: await roll(news, pid) };
}

/**
 * What really runs (drift detection reads it through a refresh): gone when its directory is;
 * `running: false` when no supervisor is alive for it; else what the serving generation runs
 * (command, env, port, replicas, as `serving.json` says) and whether it answers its health check now.
 */
export async function read(
  id: string,
  props: MicroServiceOutputs,
): Promise<{ id?: string; props?: MicroServiceOutputs & { healthy?: boolean; stopped?: string; circuitBreaker?: string } }> {
  const pid = await liveSupervisor(id);
  if (pid === undefined) {
    const dirExists = await fs.stat(id).then(
      () => true,
      () => false,
    );
    if (!dirExists) return {}; // gone: Pulumi forgets it
    // Stopped through `deployer stop`: not running, on purpose (drift does not report it).
    const mark = await readJson<StoppedMark>(files(id).stopped);
    const stopped = mark ? { stopped: `by ${mark.by} at ${mark.at}` } : {};
    return { id, props: { ...props, running: false, healthy: false, ...stopped } };
  }
  const f = files(id);
  const [status, serving] = await Promise.all([readJson<Status>(f.status), readJson<Serving>(f.serving)]);
  // A rollout in progress still runs: the previous generation serves until the new one takes over.
  const rollingOut = status?.state === 'starting' && status.servingGeneration > 0;
  // A failed rollout leaves the previous version serving; an open circuit breaker may leave nothing.
  const serves = (status?.replicas?.length ?? 0) > 0;
  const running = status?.state === 'ready' || (status?.state === 'failed' && serves) || rollingOut;
  const now = serving?.spec;
  const actual = now
    ? { command: now.command, env: now.env, ...(now.port !== undefined ? { port: now.port } : {}), replicas: now.replicas ?? 1 }
    : {};
  const hc = now?.healthCheck ?? props.healthCheck;
  const port = now?.port ?? props.port;
  // A MicroService answers on its port; a Worker's processes are checked by its supervisor (lastHealthCheck).
  const answers = port !== undefined && hc.path !== undefined ? (await checkOnce(port, hc.path, hc.timeout * 1000)) === 'healthy' : true;
  const healthy = running && answers;
  // Said only when it is not: what apply recorded says nothing of health, and a deployed service answers.
  // Processes the kernel killed for memory are said: the supervisor's restarts would hide them.
  const oom = status?.oomKills ? { oomKills: status.oomKills } : {};
  const breaker = status?.breaker?.position === 'open' ? { circuitBreaker: status.breaker.reason } : {};
  return { id, props: { ...props, ...actual, pid, running, ...(healthy ? {} : { healthy: false }), ...oom, ...breaker } };
}

export async function remove(id: string): Promise<void> {
  await stop(id);
}

/**
 * True when anything but the runtime location changed (that one needs a new resource), or when
 * what really serves is not what Pulumi recorded: after a failed rollout the supervisor keeps the
 * old version serving while Pulumi still holds the old inputs, so redeploying them (a rollback)
 * must roll the supervisor back too.
 */
export async function diff(olds: MicroServiceOutputs, news: MicroServiceInputs): Promise<{ changes: boolean; replaces: string[] }> {
  const keys = Object.keys(news) as Array<keyof MicroServiceInputs>;
  const changed = keys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
  if (changed.length === 0 && !(await servesAsRecorded(news))) changed.push('command');
  return { changes: changed.length > 0, replaces: changed.includes('runtimeDir') ? ['runtimeDir'] : [] };
}

async function servesAsRecorded(inputs: MicroServiceInputs): Promise<boolean> {
  const f = files(inputs.runtimeDir);
  const [status, desired] = await Promise.all([readJson<Status>(f.status), readJson<Desired>(f.desired)]);
  // Its processes gone (killed behind deployer's back): an update starts them again. Stopped
  // through `deployer stop`, it stays stopped until `deployer start` or a change deploys it.
  if (status && (await supervisorOf(inputs.runtimeDir, status)) === undefined)
    return (await readJson<StoppedMark>(f.stopped)) !== undefined;
  if (!status || !desired) return true; // not ours to judge: read() reports a missing service
  return status.state !== 'failed' && JSON.stringify(desired.spec) === JSON.stringify(specOf(inputs));
}

/** Launches a supervisor for the directory with `inputs` as a new generation; resolves once it serves. */
export async function startSupervisor(inputs: MicroServiceInputs): Promise<MicroServiceOutputs> {
  const f = files(inputs.runtimeDir);
  const generation = ((await readJson<Status>(f.status))?.generation ?? 0) + 1;
  await writeJson(f.desired, { generation, spec: specOf(inputs), ...held(inputs), ...breakerOf(inputs) } satisfies Desired);
  await fs.rm(f.status, { force: true });
  // A create cut short (its run killed) may have launched a supervisor that has not reported yet:
  // the token says which launch is the newest, so only one supervisor ever runs for the directory.
  const token = randomUUID();
  await writeFileAtomic(f.launch, token);
  const log = openSync(f.supervisorLog, 'a');
  let pid: number | undefined;
  try {
    // Detached: its own process group, no pipes to us, so it outlives the Pulumi engine.
    const child = spawn(process.execPath, [distFile(SUPERVISOR), inputs.runtimeDir, token], {
      detached: true,
      stdio: ['ignore', log, log],
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LANG: process.env['LANG'] ?? 'C.UTF-8' },
    });
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(log);
  }
  if (pid === undefined) throw new Error('could not start the local supervisor process');
  return waitFor(inputs, generation, pid);
}

async function roll(inputs: MicroServiceInputs, pid: number): Promise<MicroServiceOutputs> {
  const f = files(inputs.runtimeDir);
  const status = await readJson<Status>(f.status);
  const desired = await readJson<Desired>(f.desired);
  const generation = Math.max(status?.generation ?? 0, desired?.generation ?? 0) + 1;
  await writeJson(f.desired, { generation, spec: specOf(inputs), ...held(inputs), ...breakerOf(inputs) } satisfies Desired);
  process.kill(pid, 'SIGHUP');
  return waitFor(inputs, generation, pid);
}

/**
 * A rolling restart of what serves now (seed 003's "rolling restart"): the same spec rolled out
 * again as a new generation, one process at a time, each healthy before an old one stops, so no
 * request fails — whatever the component's own strategy.
 */
export async function restart(runtimeDir: string, component: string): Promise<MicroServiceOutputs> {
  const f = files(runtimeDir);
  const pid = await liveSupervisor(runtimeDir);
  const desired = await readJson<Desired>(f.desired);
  const status = await readJson<Status>(f.status);
  if (pid === undefined || !desired)
    throw new Error(`${component} is not running (no live supervisor in ${runtimeDir}); \`deployer start\` starts it`);
  const own = desired.spec;
  const oneByOne = { ...decideStrategy(undefined, own.replicas ?? 1), ...(own.strategy ? { timeoutMs: own.strategy.timeoutMs } : {}) };
  const generation = Math.max(status?.generation ?? 0, desired.generation) + 1;
  const breaker = desired.breaker ? { breaker: desired.breaker } : {};
  await writeJson(f.desired, { generation, spec: { ...own, strategy: oneByOne }, reason: 'restart', ...breaker } satisfies Desired);
  process.kill(pid, 'SIGHUP');
  const inputs = deployedInputs(desired, component, runtimeDir);
  try {
    return await waitFor({ ...inputs, strategy: oneByOne }, generation, pid);
  } finally {
    // What is desired stays the component's own spec (the supervisor has read this generation already).
    await writeJson(f.desired, { generation, spec: own, ...breaker } satisfies Desired);
  }
}

async function waitFor(inputs: MicroServiceInputs, generation: number, pid: number): Promise<MicroServiceOutputs> {
  const f = files(inputs.runtimeDir);
  const budgetMs = rolloutBudgetMs(inputs.strategy ?? decideStrategy(undefined, 1)) + 15_000 + (barrierFromEnv()?.timeoutMs ?? 0);
  const deadline = Date.now() + budgetMs;
  while (Date.now() < deadline) {
    const s = await readJson<Status>(f.status);
    if (s && s.generation === generation && s.state === 'ready') {
      const url = inputs.port !== undefined ? { url: `http://127.0.0.1:${inputs.port}` } : {};
      return { ...inputs, ...url, pid, generation, running: true };
    }
    if (s && s.generation === generation && s.state === 'failed') {
      const serving = s.servingGeneration > 0 ? ' The previous version keeps serving.' : '';
      throw new Error(
        `${inputs.component}: ${s.error ?? 'failed to start'}.${serving}\n--- last lines of ${f.appLog} ---\n${await tail(f.appLog)}`,
      );
    }
    if (!isAlive(pid)) {
      throw new Error(`${inputs.component}: the supervisor exited.\n--- ${f.supervisorLog} ---\n${await tail(f.supervisorLog)}`);
    }
    await sleep(50);
  }
  throw new Error(`${inputs.component}: no answer from the supervisor within ${Math.round(budgetMs / 1000)} s`);
}

/** What `desired.json` says was deployed, as the inputs of the component that deployed it (the kind aside: all are supervised alike). */
export function deployedInputs(desired: Desired, component: string, runtimeDir: string): MicroServiceInputs {
  return { ...desired.spec, kind: 'MicroService', component, runtimeDir, ...(desired.breaker ? { crashBreaker: desired.breaker } : {}) };
}

function breakerOf(i: MicroServiceInputs): Pick<Desired, 'breaker'> {
  return i.crashBreaker ? { breaker: i.crashBreaker } : {};
}

/** The cross-region barrier this run holds the switch at, when it is a multi-region run (targets/switch-barrier.ts). */
function held(i: MicroServiceInputs): Pick<Desired, 'barrier'> {
  const barrier = barrierFromEnv();
  return barrier ? { barrier: { ...barrier, component: i.component } } : {};
}

function specOf(i: MicroServiceInputs): ProcessSpec {
  return {
    command: i.command,
    cwd: i.cwd,
    env: i.env,
    port: i.port,
    healthCheck: i.healthCheck,
    startTimeout: i.startTimeout,
    ...(i.replicas !== undefined ? { replicas: i.replicas } : {}),
    ...(i.strategy !== undefined ? { strategy: i.strategy } : {}),
    ...(i.resources !== undefined ? { resources: i.resources } : {}),
    ...(i.cron !== undefined ? { cron: i.cron } : {}),
  };
}

/** The supervisor's pid if one runs for this directory (checked by its command line, not just the pid). */
export async function liveSupervisor(dir: string): Promise<number | undefined> {
  return supervisorOf(dir, await readJson<Status>(files(dir).status));
}

/** The supervisor `status` names, if it still runs for this directory (for a caller that has read status.json already). */
export async function supervisorOf(dir: string, status: Status | undefined): Promise<number | undefined> {
  const pid = status?.supervisorPid;
  if (!pid || !isAlive(pid)) return undefined;
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  if (cmdline !== undefined && !(cmdline.includes(path.basename(SUPERVISOR)) && cmdline.includes(dir))) return undefined;
  return pid;
}

/** Stops the supervisor (which stops its processes) and removes the directory. */
async function stop(dir: string): Promise<void> {
  const pid = await liveSupervisor(dir);
  if (pid !== undefined) await stopSupervisor(pid);
  await fs.rm(dir, { recursive: true, force: true });
}

/**
 * Stops a supervisor: SIGTERM to it alone (it takes its processes out of the traffic and stops
 * them itself, none restarted meanwhile), then SIGKILL to its whole process group if it has not
 * ended in 12 s.
 */
export async function stopSupervisor(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return; // gone already
  }
  const deadline = Date.now() + 12_000;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) signalGroup(pid, 'SIGKILL');
}

/**
 * The supervisor of a local MicroService: a detached process (own process group) that owns the
 * public port through a SwitchingProxy, runs `replicas` processes of the service on private
 * ports, restarts one that dies, and rolls out a new generation with the component's strategy
 * (rollout.ts: rolling, blue-green, canary, big-bang) — so the service keeps answering during
 * an update, and a new version that fails its checks never keeps traffic.
 *
 * Run as `node supervisor.js <runtimeDir> [launchToken]`; SIGHUP = read desired.json again; SIGTERM = stop.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { freePort } from '../../util/net.js';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { AppLog } from './app-log.js';
import { limitsFor } from './limits.js';
import { claim } from './launch.js';
import { checkOnce, waitHealthy } from './health.js';
import { files, readJson, sameProcesses, writeJson, type Desired, type ProcessSpec, type Serving, type Status } from './protocol.js';
import { SwitchingProxy, type BackendStats } from './proxy.js';
import { awaitSwitch, type SwitchParticipant } from '../switch-barrier.js';
import { STRATEGIES, type Replica, type RolloutHost } from './rollout.js';
import { decideStrategy } from './strategy.js';

interface Running extends Replica {
  child: ChildProcess;
  /** Set when we stop it on purpose, so its exit is not treated as a crash. */
  stopping: boolean;
}

/** Variables a service process inherits from the supervisor; nothing of deployer's or Pulumi's own. */
const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'USER', 'SHELL', 'NODE_OPTIONS'];

export class Supervisor implements RolloutHost {
  private proxy: SwitchingProxy | undefined;
  /** The proxy on the previous port while a rollout moves the service to a new one. */
  private leavingProxy: SwitchingProxy | undefined;
  private pool: Array<{ replica: Running; weight: number }> = [];
  private status: Status;
  private queue: Promise<void> = Promise.resolve();
  private writes: Promise<void> = Promise.resolve();
  private restartDelayMs = 500;
  private stopped = false;
  private deadline = Infinity;
  /** The rollout in progress: when its processes were verified healthy and when traffic went to them alone. */
  private timing: { generation: number; startedAt: number; verifiedAt?: number; switchedAt?: number } | undefined;
  /** The cross-region barrier the rollout in progress waits at before it switches, until it has passed it. */
  private barrier: SwitchParticipant | undefined;
  private readonly log: WriteStream;
  private readonly appLog: AppLog;
  /** The cgroups of this component's processes go below this name (one per process: `<name>/<port>`). */
  private readonly cgroupName: string;

  constructor(private readonly dir: string) {
    this.status = {
      generation: 0,
      servingGeneration: 0,
      state: 'starting',
      supervisorPid: process.pid,
      restarts: 0,
      updatedAt: new Date().toISOString(),
    };
    this.log = createWriteStream(files(dir).supervisorLog, { flags: 'a' });
    this.appLog = new AppLog(files(dir).appLog);
    this.cgroupName = `deployer/${createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 12)}-${path.basename(path.dirname(dir))}.${path.basename(dir)}`;
  }

  private say(message: string): void {
    this.log.write(`${new Date().toISOString()} ${message}\n`);
  }

  /** Status writes are chained so they land in order. */
  private report(patch: Partial<Status>): Promise<void> {
    this.status = { ...this.status, ...patch, updatedAt: new Date().toISOString() };
    const snapshot = this.status;
    this.writes = this.writes.then(() => writeJson(files(this.dir).status, snapshot)).catch(() => undefined);
    return this.writes;
  }

  /** Reads desired.json and rolls it out if it is a generation not seen yet. Serialized. */
  reload(): Promise<void> {
    this.queue = this.queue.then(async () => {
      const desired = await readJson<Desired>(files(this.dir).desired);
      if (!desired || desired.generation <= this.status.generation || this.stopped) return;
      await this.rollout(desired);
    });
    return this.queue;
  }

  /**
   * A generation that asks for exactly what serves now (a rollback after a failed rollout, which
   * left the previous version serving) is not a rollout: it is adopted at once, nothing is
   * started or stopped, and traffic never moves. A rolling restart always replaces.
   */
  private async adoptable(desired: Desired): Promise<boolean> {
    const serving = this.pool.map((p) => p.replica);
    if (
      desired.reason === 'restart' ||
      serving.length !== (desired.spec.replicas ?? 1) ||
      !this.proxy ||
      this.proxy.port !== desired.spec.port
    )
      return false;
    if (!serving.every((r) => !r.exited && sameProcesses(r.spec, desired.spec))) return false;
    // Kept only if they answer now: a hung process is replaced by a rollout, as any other.
    const hc = desired.spec.healthCheck;
    const answers = await Promise.all(serving.map((r) => checkOnce(r.port, hc.path, hc.timeout * 1000)));
    return answers.every((a) => a === 'healthy');
  }

  /** Generation `generation` serves on `port` (running `spec`): ready, no error, no phase. */
  private async reportServing(generation: number, port: number, spec: ProcessSpec): Promise<void> {
    await writeJson(files(this.dir).serving, { generation, spec } satisfies Serving);
    await this.report({
      generation,
      state: 'ready',
      servingGeneration: generation,
      proxyPort: port,
      error: undefined,
      phase: undefined,
      ...this.servingInfo(),
    });
  }

  private async rollout(desired: Desired): Promise<void> {
    const { spec, generation } = desired;
    if (await this.adoptable(desired)) {
      for (const { replica } of this.pool) replica.spec = spec;
      this.say(`generation ${generation} is what serves already (generation ${this.status.servingGeneration}): adopted, nothing restarted`);
      await this.reportServing(generation, spec.port, spec);
      return;
    }
    const replicas = spec.replicas ?? 1;
    const strategy = spec.strategy ?? decideStrategy(undefined, replicas);
    this.say(
      `rolling out generation ${generation} (${strategy.type}, ${replicas} replica(s)): ${spec.command.join(' ')} on port ${spec.port}`,
    );
    await this.report({ generation, state: 'starting', phase: `${strategy.type}: starting` });
    this.deadline = Date.now() + strategy.timeoutMs;
    this.timing = { generation, startedAt: Date.now() };
    this.barrier = desired.barrier;
    try {
      if (!this.proxy || this.proxy.port !== spec.port) {
        const proxy = new SwitchingProxy();
        await proxy.listen(spec.port).catch((err: NodeJS.ErrnoException) => {
          throw new Error(
            err.code === 'EADDRINUSE' ? `port ${spec.port} is already in use` : `cannot listen on port ${spec.port}: ${err.message}`,
          );
        });
        this.leavingProxy = this.proxy;
        this.proxy = proxy;
        this.route(this.pool);
      }
      await STRATEGIES[strategy.type](this, { spec, generation, replicas, strategy });
      await this.leavingProxy?.close();
      this.leavingProxy = undefined;
      await this.reportServing(generation, spec.port, spec);
      await this.reportRollout(strategy.type);
      this.say(`generation ${generation} is serving on port ${spec.port}`);
    } catch (err) {
      const message = (err as Error).message;
      this.say(`generation ${generation} failed: ${message}`);
      if (this.leavingProxy) {
        // Keep serving on the old port with the old version.
        await this.proxy?.close();
        this.proxy = this.leavingProxy;
        this.leavingProxy = undefined;
        this.route(this.pool);
      }
      await this.report({ state: 'failed', error: message, phase: undefined, ...this.servingInfo() });
    } finally {
      this.deadline = Infinity;
    }
  }

  private async reportRollout(strategy: string): Promise<void> {
    const t = this.timing;
    if (!t) return;
    const at = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
    await writeJson(files(this.dir).rollout, {
      generation: t.generation,
      strategy,
      startedAt: at(t.startedAt),
      verifiedAt: at(t.verifiedAt),
      switchedAt: at(t.switchedAt ?? Date.now()),
      finishedAt: new Date().toISOString(),
    });
  }

  private servingInfo(): Pick<Status, 'replicas' | 'backendPort' | 'childPid'> {
    const replicas = this.pool.map(({ replica, weight }) => ({
      pid: replica.pid,
      port: replica.port,
      generation: replica.generation,
      weight,
    }));
    return { replicas, backendPort: replicas[0]?.port, childPid: replicas[0]?.pid };
  }

  // --- RolloutHost ---

  async beforeSwitch(): Promise<void> {
    const barrier = this.barrier;
    const generation = this.timing?.generation;
    if (!barrier || generation === undefined) return;
    this.barrier = undefined; // once per rollout: later batches and steps follow without waiting
    const since = Date.now();
    await awaitSwitch(barrier, generation, {
      onWait: () => this.phase(`verified; waiting for every region to be ready before switching (${barrier.region})`),
    });
    this.deadline += Date.now() - since; // the wait for other regions does not count against this rollout's timeout
    this.say(`every region is ready: switching generation ${generation} (${barrier.region})`);
  }

  serving(): Replica[] {
    return this.pool.map((p) => p.replica);
  }

  route(pool: Array<{ replica: Replica; weight: number }>): void {
    this.pool = pool as Array<{ replica: Running; weight: number }>;
    const t = this.timing;
    // The switch: the first moment the new generation alone takes the traffic.
    if (t && t.switchedAt === undefined && pool.length > 0 && pool.every((p) => p.replica.generation === t.generation && p.weight > 0)) {
      t.switchedAt = Date.now();
    }
    const backends = pool.map(({ replica, weight }) => ({ port: replica.port, weight }));
    this.proxy?.setBackends(backends);
    this.leavingProxy?.setBackends(backends);
    void this.report(this.servingInfo());
  }

  stats(r: Replica): BackendStats {
    return this.proxy?.statsOf(r.port) ?? { requests: 0, errors: 0 };
  }

  phase(text: string): void {
    this.say(text);
    void this.report({ phase: text });
  }

  async watch(ms: number, check: () => Promise<string | undefined>): Promise<void> {
    this.deadline += ms; // bake time does not count against the deployment timeout
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const reason = await check();
      if (reason) throw new Error(reason);
      await sleep(Math.min(250, Math.max(0, end - Date.now())));
    }
    const reason = await check();
    if (reason) throw new Error(reason);
  }

  async start(spec: ProcessSpec, generation: number): Promise<Running> {
    const port = await freePort();
    const env: Record<string, string> = {};
    for (const k of INHERITED_ENV) if (process.env[k] !== undefined) env[k] = process.env[k]!;
    Object.assign(env, spec.env, { PORT: String(port) });
    // Inside its cpu and memory limits from its first instruction (limits.ts).
    const limits = limitsFor(`${this.cgroupName}/${port}`, spec.resources ?? {});
    if (spec.resources && this.status.limits?.mechanism !== limits.applied.mechanism) void this.report({ limits: limits.applied });
    const [program, ...args] = limits.command(spec.command);
    const child: ChildProcess = spawn(program!, args, { cwd: spec.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.appLog.attach(child);
    const running: Running = { child, port, generation, spec, pid: child.pid, stopping: false, exited: false };
    let spawnError: string | undefined;
    child.on('error', (err) => {
      // Spawning failed (e.g. ENOENT): there is no process, and no 'exit' will follow.
      spawnError = `cannot start ${spec.command[0]}: ${err.message}`;
      if (child.pid === undefined) running.exited = true;
    });
    child.on('exit', (code, signal) => {
      running.exited = true;
      const overMemory = limits.oomKills() > 0;
      limits.release();
      if (running.stopping || this.stopped) return;
      const how = overMemory
        ? `killed by the kernel: over its memory limit (${limits.applied.memory})`
        : signal
          ? `signal ${signal}`
          : `exit code ${code}`;
      this.say(`generation ${generation} process ${child.pid} ended (${how})`);
      void this.report({
        lastExit: { at: new Date().toISOString(), reason: `process ${child.pid}: ${how}` },
        ...(overMemory ? { oomKills: (this.status.oomKills ?? 0) + 1 } : {}),
      });
      if (this.pool.some((p) => p.replica === running)) this.restartAfterCrash(running);
    });
    const hc = spec.healthCheck;
    const left = this.deadline - Date.now();
    await waitHealthy({
      port,
      path: hc.path,
      healthyThreshold: hc.healthyThreshold,
      unhealthyThreshold: hc.unhealthyThreshold,
      gracePeriodMs: hc.gracePeriod * 1000,
      intervalMs: hc.interval * 1000,
      timeoutMs: Math.max(0, Math.min(spec.startTimeout * 1000, left)),
      checkTimeoutMs: hc.timeout * 1000,
      abandoned: () =>
        spawnError ?? (running.exited ? `the process exited before it became healthy (see ${files(this.dir).appLog})` : undefined),
    }).catch(async (err: Error) => {
      await this.stop(running);
      throw left < spec.startTimeout * 1000 && /did not pass/.test(err.message)
        ? new Error(`${err.message} (deployment timeout reached)`)
        : err;
    });
    if (this.timing?.generation === generation) this.timing.verifiedAt = Date.now();
    return running;
  }

  /** Stops a process: out of the traffic, drain its requests, then SIGTERM, then SIGKILL. */
  async stop(r: Replica): Promise<void> {
    const running = r as Running;
    running.stopping = true;
    if (this.pool.some((p) => p.replica === running)) this.route(this.pool.filter((p) => p.replica !== running));
    await Promise.all([this.proxy, this.leavingProxy].map((p) => p?.drain(running.port, 10_000)));
    if (running.exited || running.child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => running.child.once('exit', () => resolve()));
    running.child.kill('SIGTERM');
    const killed = await Promise.race([exited.then(() => true), new Promise<boolean>((res) => setTimeout(() => res(false), 5_000))]);
    if (!killed) {
      running.child.kill('SIGKILL');
      await exited;
    }
  }

  /** A serving process died: start another of the same version in its place, backing off. */
  private restartAfterCrash(crashed: Running): void {
    this.queue = this.queue.then(async () => {
      if (this.stopped || !this.pool.some((p) => p.replica === crashed)) return;
      this.route(this.pool.filter((p) => p.replica !== crashed));
      await this.report({ state: 'restarting', restarts: this.status.restarts + 1 });
      await sleep(this.restartDelayMs);
      this.restartDelayMs = Math.min(30_000, this.restartDelayMs * 2);
      try {
        const next = await this.start(crashed.spec, crashed.generation);
        this.route([...this.pool, { replica: next, weight: 1 }]);
        this.restartDelayMs = 500;
        await this.report({ state: 'ready', error: undefined, ...this.servingInfo() });
      } catch (err) {
        this.say(`restart failed: ${(err as Error).message}`);
        this.pool.push({ replica: crashed, weight: 0 }); // keeps the slot so the next attempt is made
        this.restartAfterCrash(crashed);
      }
    });
  }

  async stopAll(): Promise<void> {
    this.stopped = true;
    this.say('stopping');
    await this.queue.catch(() => undefined);
    const all = this.serving();
    this.route([]);
    await Promise.all(all.map((r) => this.stop(r)));
    await this.proxy?.close();
    await this.report({ state: 'stopped' });
    await this.writes;
    await this.appLog.close();
    await new Promise<void>((r) => this.log.end(() => r()));
  }
}

async function main(dir: string, token: string | undefined): Promise<void> {
  if (!(await claim(dir, token))) {
    process.stderr.write(`${new Date().toISOString()} a newer supervisor was launched for ${dir}: this one gives way\n`);
    process.exit(0);
  }
  const supervisor = new Supervisor(dir);
  process.on('SIGHUP', () => void supervisor.reload());
  const shutdown = (): void => {
    void supervisor.stopAll().finally(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  await supervisor.reload();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: supervisor.js <runtimeDir>\n');
    process.exit(2);
  }
  void main(dir, process.argv[3]);
}

/**
 * The supervisor of a local MicroService: a detached process (own process group) that owns the
 * public port through a SwitchingProxy, runs `replicas` processes of the service on private
 * ports, restarts one that dies, and rolls out a new generation with the component's strategy
 * (rollout.ts: rolling, blue-green, canary, big-bang) — so the service keeps answering during
 * an update, and a new version that fails its checks never keeps traffic.
 *
 * Run as `node supervisor.js <runtimeDir> [launchToken]`; SIGHUP = read desired.json again; SIGTERM = stop.
 * A CronJob's directory gets a CronRunner (cron-runner.ts) instead; SIGUSR1 = the run `deployer run` asks for.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { SupervisorBase } from './supervisor-base.js';
import { claim } from './launch.js';
import { probe } from './health.js';
import { endReplica, replicaHealthy, spawnReplica, type Death, type Running } from './replica.js';
import { files, readJson, sameProcesses, writeJson, type Desired, type ProcessSpec, type Serving, type Status } from './protocol.js';
import { SwitchingProxy, type BackendStats } from './proxy.js';
import { awaitSwitch, type SwitchParticipant } from '../switch-barrier.js';
import { STRATEGIES, type Replica, type RolloutHost } from './rollout.js';
import { BreakerGate } from './breaker-gate.js';
import { Liveness } from './liveness.js';
import { CronRunner } from './cron-runner.js';
import { decideStrategy } from './strategy.js';

export class Supervisor extends SupervisorBase implements RolloutHost {
  private proxy: SwitchingProxy | undefined;
  /** The proxy on the previous port while a rollout moves the service to a new one. */
  private leavingProxy: SwitchingProxy | undefined;
  private pool: Array<{ replica: Running; weight: number }> = [];
  private restartDelayMs = 500;
  private deadline = Infinity;
  /** The rollout in progress: when its processes were verified healthy and when traffic went to them alone. */
  private timing: { generation: number; startedAt: number; verifiedAt?: number; switchedAt?: number } | undefined;
  /** The cross-region barrier the rollout in progress waits at before it switches, until it has passed it. */
  private barrier: SwitchParticipant | undefined;
  /** The Stack's circuit breaker over the processes that die, and the ones it holds. */
  private readonly gate: BreakerGate<Running>;
  private readonly liveness: Liveness;

  /** @param o.livenessMinIntervalMs the shortest time between two rounds of periodic health checks (liveness.ts). */
  constructor(dir: string, o: { livenessMinIntervalMs?: number } = {}) {
    super(dir);
    this.liveness = new Liveness(
      {
        checkable: () => {
          // What serves, between rollouts and restarts (a failed rollout leaves the previous version serving).
          const live = this.pool.filter((p) => p.weight > 0 && !p.replica.stopping && !p.replica.exited).map((p) => p.replica);
          const between = this.status.state === 'ready' || this.status.state === 'failed';
          return between && live[0] ? { replicas: live, spec: live[0].spec } : undefined;
        },
        checked: (lastHealthCheck) => void this.report({ lastHealthCheck }),
        hung: (r, times) => {
          const running = r as Running;
          if (running.stopping || running.exited) return;
          this.say(`process ${running.pid} failed its health check ${times} times in a row: replacing it`);
          running.hung = times;
          running.child.kill('SIGKILL');
        },
      },
      o.livenessMinIntervalMs,
    );
    this.liveness.start();
    this.gate = new BreakerGate<Running>({
      say: (message) => this.say(message),
      // In the queue, after any rollout in progress: a replica of a generation no longer serving is not restarted.
      retry: (r) => {
        this.queue = this.queue.then(() => {
          if (this.stopped || r.generation !== this.status.servingGeneration) return;
          this.pool.push({ replica: r, weight: 0 }); // the slot a restart fills
          this.restartAfterCrash(r);
        });
      },
      changed: () => void this.report({ breaker: this.gate.status() }),
    });
  }

  protected take(desired: Desired): Promise<void> {
    return this.rollout(desired);
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
      (desired.spec.port !== undefined && (!this.proxy || this.proxy.port !== desired.spec.port))
    )
      return false;
    if (!serving.every((r) => !r.exited && sameProcesses(r.spec, desired.spec))) return false;
    // Kept only if they answer now: a hung process is replaced by a rollout, as any other.
    const answers = await Promise.all(serving.map((r) => probe(r)));
    return answers.every((a) => a === 'healthy');
  }

  /** Generation `generation` serves on `port` (running `spec`; a Worker has none): ready, no error, no phase. */
  private async reportServing(generation: number, port: number | undefined, spec: ProcessSpec): Promise<void> {
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
      this.resetBreaker(desired);
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
      // A Worker serves no traffic: no proxy, no port.
      if (spec.port !== undefined && (!this.proxy || this.proxy.port !== spec.port)) {
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
      this.resetBreaker(desired);
      await this.reportServing(generation, spec.port, spec);
      await this.reportRollout(strategy.type);
      this.say(`generation ${generation} is ${spec.port !== undefined ? `serving on port ${spec.port}` : 'running'}`);
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

  /** A generation serves: its processes' failures count afresh, under the policy it came with. */
  private resetBreaker(desired: Desired): void {
    this.gate.reset(desired.breaker);
    void this.report({ breaker: undefined });
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
    const running = await spawnReplica({
      spec,
      generation,
      cgroup: this.cgroupName,
      appLog: this.appLog,
      limited: (applied) => {
        if (this.status.limits?.mechanism !== applied.mechanism) void this.report({ limits: applied });
      },
      died: (r, death) => this.died(r, death),
    });
    await replicaHealthy(running, this.deadline - Date.now(), files(this.dir).appLog).catch(async (err: Error) => {
      await this.stop(running);
      throw err;
    });
    if (this.timing?.generation === generation) this.timing.verifiedAt = Date.now();
    return running;
  }

  /** A process died while nobody was stopping it: said, counted, and replaced if it was serving. */
  private died(running: Running, death: Death): void {
    if (this.stopped) return;
    this.say(`generation ${running.generation} process ${running.pid} ended (${death.how})`);
    void this.report({
      lastExit: { at: new Date().toISOString(), reason: `process ${running.pid}: ${death.how}` },
      ...(death.oom ? { oomKills: (this.status.oomKills ?? 0) + 1 } : {}),
    });
    if (this.pool.some((p) => p.replica === running)) this.restartAfterCrash(running, { oom: death.oom });
  }

  /** Stops a process: out of the traffic, drain its requests, then SIGTERM, then SIGKILL. */
  async stop(r: Replica): Promise<void> {
    const running = r as Running;
    running.stopping = true;
    if (this.pool.some((p) => p.replica === running)) this.route(this.pool.filter((p) => p.replica !== running));
    await Promise.all([this.proxy, this.leavingProxy].map((p) => p?.drain(running.port, 10_000)));
    await endReplica(running);
  }

  /**
   * A serving process died (`death`; absent: a trial, or a retry already counted): counted in the
   * circuit breaker, then another of the same version started in its place, backing off, unless
   * the breaker holds it.
   */
  private restartAfterCrash(crashed: Running, death?: { oom: boolean }): void {
    this.queue = this.queue.then(async () => {
      if (this.stopped || !this.pool.some((p) => p.replica === crashed)) return;
      this.route(this.pool.filter((p) => p.replica !== crashed));
      // Counted when it died; a trial or a retry is held when the breaker opened again meanwhile.
      if (death ? this.gate.crashed(crashed, death.oom) : this.gate.holdIfOpen(crashed)) return this.reportHeld();
      await this.report({ state: 'restarting', restarts: this.status.restarts + 1, breaker: this.gate.status() });
      await sleep(this.restartDelayMs);
      if (this.stopped) return;
      this.restartDelayMs = Math.min(30_000, this.restartDelayMs * 2);
      try {
        const next = await this.start(crashed.spec, crashed.generation);
        this.route([...this.pool, { replica: next, weight: 1 }]);
        this.restartDelayMs = 500;
        await this.report({ state: 'ready', error: undefined, ...this.servingInfo(), breaker: this.gate.status() });
        this.gate.restarted(next);
      } catch (err) {
        this.say(`restart failed: ${(err as Error).message}`);
        if (this.gate.failedStart(crashed)) return this.reportHeld();
        this.pool.push({ replica: crashed, weight: 0 }); // keeps the slot so the next attempt is made
        this.restartAfterCrash(crashed);
      }
    });
  }

  /** The breaker holds a dead process: failed when nothing serves any more, else serving with fewer. */
  private async reportHeld(): Promise<void> {
    const breaker = this.gate.status()!;
    const none = this.pool.length === 0;
    await this.report({ state: none ? 'failed' : 'ready', error: none ? breaker.reason : undefined, breaker, ...this.servingInfo() });
  }

  async stopAll(): Promise<void> {
    this.stopped = true;
    this.liveness.stop();
    this.gate.close();
    this.say('stopping');
    await this.queue.catch(() => undefined);
    const all = this.serving();
    this.route([]);
    await Promise.all(all.map((r) => this.stop(r)));
    await this.proxy?.close();
    await this.report({ state: 'stopped' });
    await this.closeFiles();
  }
}

async function main(dir: string, token: string | undefined): Promise<void> {
  if (!(await claim(dir, token))) {
    process.stderr.write(`${new Date().toISOString()} a newer supervisor was launched for ${dir}: this one gives way\n`);
    process.exit(0);
  }
  // A CronJob's supervisor runs its command on a schedule; any other keeps its processes running.
  const cron = (await readJson<Desired>(files(dir).desired))?.spec.cron !== undefined;
  const supervisor = cron ? new CronRunner(dir) : new Supervisor(dir);
  if (supervisor instanceof CronRunner) process.on('SIGUSR1', () => void supervisor.runNow());
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

/**
 * The four ways a local MicroService's supervisor replaces the serving processes with a new
 * generation. Each works through a RolloutHost (start a process and wait until it is healthy,
 * stop one after draining it, route traffic) and either finishes with the new generation
 * serving or throws with the old one serving again — a failed rollout never leaves traffic
 * on a version that failed its checks.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BackendStats } from './proxy.js';
import type { ProcessSpec, RolloutStrategy } from './protocol.js';
import { describeCheck, probe } from './health.js';

/** A service process the supervisor started. */
export interface Replica {
  port: number;
  generation: number;
  spec: ProcessSpec;
  pid: number | undefined;
  /** True once the process has exited. */
  exited: boolean;
}

export interface RolloutHost {
  /** The replicas serving now. */
  serving(): Replica[];
  /** Starts one process of `spec` and resolves when it is healthy (rejects, having stopped it, otherwise). */
  start(spec: ProcessSpec, generation: number): Promise<Replica>;
  /** Takes a replica out of the traffic, waits for its requests to finish, stops it. */
  stop(r: Replica): Promise<void>;
  /**
   * Called before the new generation first takes traffic: resolves when it may (at once, unless
   * a multi-region run holds the switch until every region is ready), throws when it may not.
   */
  beforeSwitch(): Promise<void>;
  /** Makes exactly these replicas serve, with these relative weights. */
  route(pool: Array<{ replica: Replica; weight: number }>): void;
  stats(r: Replica): BackendStats;
  phase(text: string): void;
  /** Waits, but rejects early when `check` names a reason to stop. */
  watch(ms: number, check: () => Promise<string | undefined>): Promise<void>;
}

export interface Rollout {
  spec: ProcessSpec;
  generation: number;
  replicas: number;
  strategy: RolloutStrategy;
}

const equal = (rs: Replica[]) => rs.map((replica) => ({ replica, weight: 1 }));

/** Starts `n` processes at once; if one fails, stops the others and rethrows. */
export async function startMany(host: RolloutHost, spec: ProcessSpec, generation: number, n: number): Promise<Replica[]> {
  const settled = await Promise.allSettled(Array.from({ length: n }, () => host.start(spec, generation)));
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((r) => host.stop(r)));
    throw failed.reason;
  }
  return started;
}

/** Brings back `count` processes of the version that served before, beside those still serving. */
async function restore(host: RolloutHost, previous: Replica[], kept: Replica[], count: number, failed: Replica[]): Promise<void> {
  const old = previous[0];
  let back: Replica[] = [];
  if (old && count > 0) back = await startMany(host, old.spec, old.generation, count).catch(() => []);
  // The new ones leave only if something else can serve.
  const serving = [...kept, ...back];
  if (serving.length > 0 || failed.length === 0) {
    host.route(equal(serving));
    await Promise.all(failed.map((r) => host.stop(r)));
  }
}

/** Replaces processes a batch at a time: up to maxUnavailable stopped first, up to maxSurge started above the count. */
export async function rolling(host: RolloutHost, o: Rollout): Promise<void> {
  const previous = host.serving();
  const olds = [...previous];
  const news: Replica[] = [];
  try {
    while (news.length < o.replicas) {
      const batch = Math.min(o.replicas - news.length, Math.max(1, o.strategy.maxSurge + o.strategy.maxUnavailable));
      // Never below one serving process: "unavailable" means fewer, not none.
      const down = Math.min(o.strategy.maxUnavailable, batch, olds.length, Math.max(0, olds.length + news.length - 1));
      const leaving = olds.splice(0, down);
      if (leaving.length > 0) {
        host.route(equal([...olds, ...news]));
        await Promise.all(leaving.map((r) => host.stop(r)));
      }
      news.push(...(await startMany(host, o.spec, o.generation, batch)));
      await host.beforeSwitch();
      const surplus = olds.splice(0, Math.max(0, olds.length + news.length - o.replicas));
      host.route(equal([...olds, ...news]));
      await Promise.all(surplus.map((r) => host.stop(r)));
      host.phase(`rolling: ${news.length} of ${o.replicas} replaced`);
    }
  } catch (err) {
    await restore(host, previous, olds, previous.length - olds.length, news);
    throw err;
  }
}

/** Starts a whole new set, switches all traffic to it at once, then stops the old set. */
export async function blueGreen(host: RolloutHost, o: Rollout): Promise<void> {
  const blue = host.serving();
  host.phase(`blue-green: starting ${o.replicas} green`);
  const green = await startMany(host, o.spec, o.generation, o.replicas);
  try {
    await host.beforeSwitch();
  } catch (err) {
    await Promise.all(green.map((r) => host.stop(r)));
    throw err;
  }
  host.route(equal(green));
  host.phase('blue-green: switched to green');
  if (o.strategy.terminationWaitMs > 0 && blue.length > 0) await sleep(o.strategy.terminationWaitMs);
  await Promise.all(blue.map((r) => host.stop(r)));
}

/** Sends a share of the traffic to the new version, watches its health and error rate, then promotes or aborts. */
export async function canary(host: RolloutHost, o: Rollout): Promise<void> {
  const olds = host.serving();
  if (olds.length === 0) return blueGreen(host, o); // nothing to compare with
  const canaries: Replica[] = [];
  try {
    for (const step of o.strategy.steps) {
      const want = Math.max(1, Math.ceil((o.replicas * step.percentage) / 100));
      if (want > canaries.length) canaries.push(...(await startMany(host, o.spec, o.generation, want - canaries.length)));
      await host.beforeSwitch();
      host.route([
        ...olds.map((replica) => ({ replica, weight: (100 - step.percentage) / olds.length })),
        ...canaries.map((replica) => ({ replica, weight: step.percentage / canaries.length })),
      ]);
      host.phase(`canary: ${step.percentage}% of the traffic, baking ${Math.round(step.bakeMs / 1000)} s`);
      await host.watch(step.bakeMs, () => judge(host, canaries, o));
    }
    canaries.push(...(await startMany(host, o.spec, o.generation, Math.max(0, o.replicas - canaries.length))));
    await host.beforeSwitch(); // held already at the first step, unless there was none (a single 100% step)
    host.route(equal(canaries));
    host.phase('canary: promoted');
    await Promise.all(olds.map((r) => host.stop(r)));
  } catch (err) {
    host.route(equal(olds));
    await Promise.all(canaries.map((r) => host.stop(r)));
    throw err;
  }
}

/** Why the canary must be aborted, if it must: a process died, failed its check, or answers too many errors. */
async function judge(host: RolloutHost, canaries: Replica[], o: Rollout): Promise<string | undefined> {
  if (canaries.some((r) => r.exited)) return 'canary aborted: a new process exited';
  const hc = o.spec.healthCheck;
  for (const r of canaries) {
    if ((await probe(r)) !== 'healthy') return `canary aborted: health check ${describeCheck(hc)} failed on the new version`;
  }
  const total = canaries
    .map((r) => host.stats(r))
    .reduce((a, s) => ({ requests: a.requests + s.requests, errors: a.errors + s.errors }), { requests: 0, errors: 0 });
  // A handful of requests says nothing; from 10 on, the rate counts.
  if (total.requests >= 10 && (total.errors * 100) / total.requests > o.strategy.maxErrorRate) {
    const rate = Math.round((total.errors * 1000) / total.requests) / 10;
    return `canary aborted: error rate ${rate}% (${total.errors} of ${total.requests} requests) is above ${o.strategy.maxErrorRate}%`;
  }
  return undefined;
}

/** Stops everything, then starts the new set: the service is down in between. */
export async function bigBang(host: RolloutHost, o: Rollout): Promise<void> {
  const olds = host.serving();
  await host.beforeSwitch();
  host.route([]);
  host.phase('big-bang: stopping the old version');
  await Promise.all(olds.map((r) => host.stop(r)));
  try {
    host.route(equal(await startMany(host, o.spec, o.generation, o.replicas)));
  } catch (err) {
    await restore(host, olds, [], olds.length, []);
    throw err;
  }
}

export const STRATEGIES: Record<RolloutStrategy['type'], (host: RolloutHost, o: Rollout) => Promise<void>> = {
  rolling,
  'blue-green': blueGreen,
  canary,
  'big-bang': bigBang,
};

/**
 * The supervisor's periodic health checks (issue 19: "last health check"; seed 003's health
 * monitoring): while a service serves and no rollout runs, each serving process is asked its
 * health check every `interval` seconds, and at least 5 s apart. The last result is reported (`deployer services`);
 * a process that answers unhealthy, or not at all, `unhealthyThreshold` times in a row is hung:
 * the supervisor replaces it as if it had crashed (counted in restarts and the circuit breaker).
 */
import { probe } from './health.js';
import type { ProcessSpec } from './protocol.js';
import type { Replica } from './rollout.js';

/** The last round of checks, as status.json and `deployer services` show it. */
export interface LastHealthCheck {
  at: string;
  /** healthy: every serving process answered 2xx. */
  status: 'healthy' | 'unhealthy';
  /** Serving processes that did not answer healthy in this round. */
  failing: number;
}

export interface LivenessHost {
  /** The processes to check now, with the spec they run; none while a rollout runs or nothing serves. */
  checkable(): { replicas: Replica[]; spec: ProcessSpec } | undefined;
  /** A round of checks ended with another result than the last told, or 5 s after the last told. */
  checked(result: LastHealthCheck): void;
  /** `replica` failed its checks `times` in a row: replace it. */
  hung(replica: Replica, times: number): void;
}

/** Rounds of checks are at least this far apart (a health check's `interval` may ask for more). */
export const LIVENESS_MIN_INTERVAL_MS = 5_000;

export class Liveness {
  private readonly failures = new WeakMap<Replica, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private told: LastHealthCheck | undefined;

  /**
   * @param minIntervalMs the shortest time between rounds: a health check `interval` of 1 s is
   *   for a rollout deciding fast; a hundred services asked every second would load the machine.
   */
  constructor(
    private readonly host: LivenessHost,
    private readonly minIntervalMs = LIVENESS_MIN_INTERVAL_MS,
  ) {}

  /** Checks every `interval` of the serving spec (at least `minIntervalMs` apart) from now on. */
  start(): void {
    this.schedule(this.minIntervalMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.round(), ms);
  }

  private async round(): Promise<void> {
    const now = this.host.checkable();
    if (!now || now.replicas.length === 0) return this.schedule(this.minIntervalMs);
    const hc = now.spec.healthCheck;
    const answers = await Promise.all(now.replicas.map((r) => probe(r)));
    if (this.stopped) return;
    let failing = 0;
    now.replicas.forEach((replica, i) => {
      if (answers[i] === 'healthy') return void this.failures.set(replica, 0);
      failing += 1;
      const times = (this.failures.get(replica) ?? 0) + 1;
      this.failures.set(replica, times);
      if (times >= hc.unhealthyThreshold) {
        this.failures.set(replica, 0);
        this.host.hung(replica, times);
      }
    });
    // Told when it changes, else every 5 s: the status file is not rewritten every second for nothing.
    const result: LastHealthCheck = { at: new Date().toISOString(), status: failing === 0 ? 'healthy' : 'unhealthy', failing };
    const last = this.told;
    if (!last || last.status !== result.status || last.failing !== failing || Date.parse(result.at) - Date.parse(last.at) >= 5_000) {
      this.told = result;
      this.host.checked(result);
    }
    this.schedule(Math.max(this.minIntervalMs, hc.interval * 1000));
  }
}

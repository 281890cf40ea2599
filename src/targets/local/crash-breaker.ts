/**
 * The circuit breaker of a local service's processes (issue 19: "a process that exceeds its
 * memory limit is killed by the kernel, restarted with backoff, counted in the component's
 * circuit breaker"). The Stack's `spec.circuitBreaker` applied to crashes: a serving process
 * that dies before it has run `recoveryTimeout` counts as a failure in a row (one killed by the
 * kernel for memory among them); at `failureThreshold` the breaker opens and the supervisor
 * stops restarting the component's dead processes; after `recoveryTimeout` it tries again
 * (half-open): a trial that dies early opens it again, one that lives `recoveryTimeout` closes it.
 * Pure: the supervisor keeps the timers and the processes.
 */

/** The part of the Stack's circuitBreaker a supervisor applies (absent: the breaker is disabled). */
export interface CrashBreakerPolicy {
  failureThreshold: number;
  recoveryTimeoutMs: number;
}

/** What `deployer services`, drift and status.json show of it. */
export interface CrashBreakerStatus {
  position: 'closed' | 'open' | 'half-open';
  /** Processes that died early, in a row. */
  failures: number;
  /** Of them, killed by the kernel for going over their memory limit. */
  oomKills: number;
  openedAt?: string;
  /** When an open breaker lets a trial restart happen. */
  retryAt?: string;
  /** In words, for the status and for drift. */
  reason?: string;
}

export class CrashBreaker {
  private failures = 0;
  private oomKills = 0;
  private position: CrashBreakerStatus['position'] = 'closed';
  private openedAt: number | undefined;

  constructor(private policy: CrashBreakerPolicy | undefined) {}

  /** A new rollout serves (or the policy changed): the count starts again under `policy`. */
  reset(policy: CrashBreakerPolicy | undefined): void {
    this.policy = policy;
    this.failures = 0;
    this.oomKills = 0;
    this.position = 'closed';
    this.openedAt = undefined;
  }

  /**
   * A serving process died `livedMs` after it started (`oom`: the kernel killed it for memory).
   * Returns whether it may be restarted now; when not, the breaker is open until retryAt().
   */
  crashed(livedMs: number, oom: boolean, now: number): 'restart' | 'hold' {
    if (!this.policy) return 'restart';
    // One that ran the whole recovery time before it died starts a new count.
    if (livedMs >= this.policy.recoveryTimeoutMs && this.position !== 'half-open') {
      this.failures = 0;
      this.oomKills = 0;
    }
    this.failures += 1;
    if (oom) this.oomKills += 1;
    if (this.position === 'half-open' || this.failures >= this.policy.failureThreshold) {
      this.position = 'open';
      this.openedAt = now;
    }
    return this.position === 'open' ? 'hold' : 'restart';
  }

  /** Whether the dead processes are held now (open, and the recovery time not over). */
  holds(now: number): boolean {
    return this.position === 'open' && this.openedAt !== undefined && now < this.retryAt()!;
  }

  /** When an open breaker allows a trial. */
  retryAt(): number | undefined {
    return this.openedAt === undefined || !this.policy ? undefined : this.openedAt + this.policy.recoveryTimeoutMs;
  }

  /** How long a process must live to count as recovered (0: no policy). */
  recoveryMs(): number {
    return this.policy?.recoveryTimeoutMs ?? 0;
  }

  /** The recovery time is over: trial restarts are let through (half-open). */
  trial(): void {
    if (this.position === 'open') this.position = 'half-open';
  }

  /** A process restarted after a failure lived `livedMs`: the recovery time closes a half-open breaker and clears the count. */
  settle(livedMs: number): void {
    if (this.position !== 'open' && this.policy && livedMs >= this.policy.recoveryTimeoutMs) this.reset(this.policy);
  }

  status(): CrashBreakerStatus | undefined {
    if (this.failures === 0) return undefined;
    const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
    const memory = this.oomKills > 0 ? ` (${this.oomKills} killed by the kernel for going over the memory limit)` : '';
    const died = `${this.failures} process(es) died in a row${memory}`;
    const reason =
      this.position === 'open'
        ? `circuit breaker open: ${died}; not restarted until ${iso(this.retryAt())}`
        : this.position === 'half-open'
          ? `circuit breaker half-open: ${died}; a trial restart runs`
          : `${died}, below the circuit breaker's threshold of ${this.policy!.failureThreshold}`;
    return {
      position: this.position,
      failures: this.failures,
      oomKills: this.oomKills,
      ...(this.openedAt !== undefined ? { openedAt: iso(this.openedAt), retryAt: iso(this.retryAt()) } : {}),
      reason,
    };
  }
}

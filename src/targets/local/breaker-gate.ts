/**
 * The supervisor's side of its crash breaker (crash-breaker.ts): counts each process that dies,
 * holds the dead ones while the breaker is open, lets them be tried again once the recovery time
 * is over, and closes the breaker when a restarted process lives that long. It owns the timers.
 */
import { CrashBreaker, type CrashBreakerPolicy, type CrashBreakerStatus } from './crash-breaker.js';

export interface Restartable {
  exited: boolean;
  startedAt: number;
}

export class BreakerGate<R extends Restartable> {
  private readonly breaker = new CrashBreaker(undefined);
  private held: R[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly o: {
      say: (message: string) => void;
      /** The recovery time is over: start `r` again (a trial). */
      retry: (r: R) => void;
      /** The breaker's status moved on its own (a trial, a settlement). */
      changed: () => void;
    },
  ) {}

  /** A generation serves: the count starts again under its policy; nothing held is tried again. */
  reset(policy: CrashBreakerPolicy | undefined): void {
    this.breaker.reset(policy);
    this.held = [];
    this.close();
  }

  /** `r` died (`oom`: killed for memory); true when the breaker holds it rather than letting it restart. */
  crashed(r: R, oom: boolean): boolean {
    return this.decide(r, this.breaker.crashed(Date.now() - r.startedAt, oom, Date.now()));
  }

  /** True (and `r` held until the next trial) when the breaker is open now: a trial's sibling after the trial died. */
  holdIfOpen(r: R): boolean {
    return this.breaker.holds(Date.now()) && this.decide(r, 'hold');
  }

  /** A process started in place of `r` did not become healthy; true when the breaker now holds `r`. */
  failedStart(r: R): boolean {
    return this.decide(r, this.breaker.crashed(0, false, Date.now()));
  }

  /** `next` was restarted: once it lives the recovery time, a half-open breaker closes and the count clears. */
  restarted(next: R): void {
    if (!this.breaker.status()) return;
    this.later(this.breaker.recoveryMs(), () => {
      if (next.exited) return;
      this.breaker.settle(Date.now() - next.startedAt);
      this.o.changed();
    });
  }

  status(): CrashBreakerStatus | undefined {
    return this.breaker.status();
  }

  /** Stops every timer (the supervisor stops, or a new generation takes over). */
  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private decide(r: R, decision: 'restart' | 'hold'): boolean {
    if (decision === 'restart') return false;
    this.held.push(r);
    this.o.say(this.breaker.status()!.reason!);
    if (this.held.length === 1) {
      this.later((this.breaker.retryAt() ?? Date.now()) - Date.now(), () => {
        this.breaker.trial();
        this.o.say(this.breaker.status()!.reason!);
        this.o.changed();
        for (const again of this.held.splice(0)) this.o.retry(again);
      });
    }
    return true;
  }

  private later(ms: number, work: () => void): void {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        work();
      },
      Math.max(0, ms),
    );
    this.timers.add(timer);
  }
}

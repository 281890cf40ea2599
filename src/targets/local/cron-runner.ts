/**
 * The supervisor of a local CronJob (supervisor.ts runs it when desired.json holds a `cron`
 * spec): a detached process that runs the job's command on its schedule, in its time zone,
 * inside the job's cpu and memory limits, its output in the app log. A run that fails is tried
 * again up to `retries` times; one still going after `timeout` is stopped and fails. A run due
 * while another runs follows `concurrency` (allow: both; forbid: the new one is skipped;
 * replace: the old one is stopped). `suspend` keeps it deployed and runs nothing on schedule.
 * Each run is kept in runs.json (the last 20); SIGUSR1 runs the one `deployer run` asked for.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { files, readJson, writeJson, type CronRun, type Desired, type ProcessSpec, type Status } from './protocol.js';
import { SupervisorBase } from './supervisor-base.js';
import { endReplica, spawnReplica, type Death, type Running } from './replica.js';
import { parseSchedule, type Schedule } from './schedule.js';

/** Runs kept in runs.json. */
const RUNS_KEPT = 20;
/** setTimeout waits at most this long; a later run is re-armed on the way. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

export class CronRunner extends SupervisorBase {
  private spec: ProcessSpec | undefined;
  private schedule: Schedule | undefined;
  private timer: NodeJS.Timeout | undefined;
  private nextAt: Date | undefined;
  /** The attempt in progress of each run, by run id. */
  private readonly running = new Map<string, Running>();
  /** The runs in progress, from the moment they are due (their process may not be started yet). */
  private readonly active = new Set<string>();
  private readonly replaced = new Set<string>();
  private runs: CronRun[] = [];

  constructor(dir: string) {
    super(dir);
  }

  protected async take(desired: Desired): Promise<void> {
    const cron = desired.spec.cron;
    if (!cron) return; // not a CronJob's generation: nothing this runner can run
    try {
      this.schedule = parseSchedule(cron.schedule, cron.timezone);
    } catch (err) {
      this.say(`generation ${desired.generation} failed: ${(err as Error).message}`);
      await this.report({ generation: desired.generation, state: 'failed', error: (err as Error).message });
      return;
    }
    this.spec = desired.spec;
    this.runs = (await readJson<CronRun[]>(files(this.dir).runs)) ?? [];
    await writeJson(files(this.dir).serving, { generation: desired.generation, spec: desired.spec });
    this.arm();
    this.say(
      `generation ${desired.generation}: ${cron.suspend ? 'suspended' : `"${cron.schedule}" in ${cron.timezone}, next run ${this.nextAt?.toISOString()}`}`,
    );
    await this.report({
      generation: desired.generation,
      servingGeneration: desired.generation,
      state: 'ready',
      error: undefined,
      cron: this.cronStatus(),
    });
  }

  /**
   * Sets the timer for the next run of the schedule (none while suspended or stopped): the one
   * after `due` (the run just made, so a rate keeps its cadence), or after now when that one is
   * past; a timer that wakes before `next` (a wait longer than setTimeout's) keeps it.
   */
  private arm(due?: Date): void {
    clearTimeout(this.timer);
    this.nextAt = undefined;
    const cron = this.spec?.cron;
    if (!cron || cron.suspend || this.stopped || !this.schedule) return;
    const now = new Date();
    const after = due && this.schedule.next(due);
    const next = after && after > now ? after : this.schedule.next(now);
    if (!next) return;
    this.wait(next);
  }

  private wait(next: Date): void {
    this.nextAt = next;
    this.timer = setTimeout(
      () => {
        if (Date.now() < next.getTime()) return this.wait(next); // woke early: still the same run
        this.fire('schedule').catch((err: Error) => this.say(`a scheduled run could not start: ${err.message}`));
        this.arm(next);
        void this.report({ cron: this.cronStatus() });
      },
      Math.min(LONGEST_TIMER_MS, Math.max(0, next.getTime() - Date.now())),
    );
  }

  /** `deployer run`: each run asked for in run-now/ (a file per run id), now, under the same rules as a scheduled one. */
  async runNow(): Promise<void> {
    const dir = files(this.dir).runNow;
    const asked = await fs.readdir(dir).catch(() => [] as string[]);
    for (const id of asked) {
      await fs.rm(path.join(dir, id), { force: true });
      if (!this.spec || this.runs.some((r) => r.id === id)) continue;
      this.fire('manual', id).catch((err: Error) => this.say(`run ${id} could not start: ${err.message}`));
    }
  }

  /** A run is due: started as `concurrency` says, tried again on failure; resolves to its record once it ends. */
  async fire(trigger: CronRun['trigger'], id: string = randomUUID()): Promise<CronRun> {
    const cron = this.spec!.cron!;
    const startedAt = new Date().toISOString();
    if (this.active.size > 0 && cron.concurrency === 'forbid') {
      const detail = 'skipped: the previous run still runs (concurrency: forbid)';
      this.say(`run ${id}: ${detail}`);
      return this.record({ id, trigger, startedAt, finishedAt: startedAt, status: 'skipped', attempts: 0, detail });
    }
    if (cron.concurrency === 'replace') {
      for (const older of this.active) {
        this.replaced.add(older);
        const r = this.running.get(older);
        if (r) await endReplica(r);
      }
    }
    this.active.add(id);
    const run: CronRun = { id, trigger, startedAt, status: 'running', attempts: 0 };
    for (let attempt = 1; attempt <= cron.retries + 1 && !this.stopped && !this.replaced.has(id); attempt++) {
      run.attempts = attempt;
      await this.record({ ...run });
      const outcome = await this.attempt(run.id);
      run.status = outcome.status;
      run.detail = outcome.detail;
      if (outcome.status === 'succeeded') break;
    }
    if (this.replaced.has(id)) Object.assign(run, { status: 'failed', detail: 'stopped: a newer run replaced it (concurrency: replace)' });
    this.replaced.delete(id);
    this.active.delete(id);
    this.say(`run ${id} (${trigger}): ${run.status} after ${run.attempts} attempt(s)${run.detail ? `: ${run.detail}` : ''}`);
    return this.record({ ...run, finishedAt: new Date().toISOString() });
  }

  /** One attempt of run `id`: the command started, waited for, stopped at the timeout. */
  private async attempt(id: string): Promise<Pick<CronRun, 'status' | 'detail'>> {
    const spec = this.spec!;
    let death: Death | undefined;
    const r = await spawnReplica({
      spec,
      generation: this.status.generation,
      cgroup: this.cgroupName,
      appLog: this.appLog,
      limited: (applied) => void this.report({ limits: applied }),
      died: (_r, d) => (death = d),
    });
    this.running.set(id, r);
    if (this.replaced.has(id)) void endReplica(r); // replaced while it was being started
    void this.report(this.jobs());
    let timedOut = false;
    const timeoutMs = spec.cron!.timeoutMs;
    const timer = timeoutMs ? setTimeout(() => ((timedOut = true), void endReplica(r)), timeoutMs) : undefined;
    const code = await r.ended;
    clearTimeout(timer);
    this.running.delete(id);
    void this.report(this.jobs());
    if (r.spawnError) return { status: 'failed', detail: r.spawnError };
    if (timedOut) return { status: 'timed-out', detail: `still running after ${timeoutMs! / 1000} s: stopped` };
    if (death?.oom) return { status: 'failed', detail: death.how };
    return code === 0 ? { status: 'succeeded', detail: 'exit code 0' } : { status: 'failed', detail: death?.how ?? `exit code ${code}` };
  }

  private jobs(): Pick<Status, 'replicas'> {
    return { replicas: [...this.running.values()].map((r) => ({ pid: r.pid, port: r.port, generation: r.generation, weight: 0 })) };
  }

  /** Keeps `run` (replacing its earlier record), the last RUNS_KEPT of them, and says it in the status. */
  private async record(run: CronRun): Promise<CronRun> {
    this.runs = [...this.runs.filter((r) => r.id !== run.id), run].slice(-RUNS_KEPT);
    const runs = this.runs;
    void this.afterWrites(() => writeJson(files(this.dir).runs, runs));
    await this.report({ cron: this.cronStatus() });
    return run;
  }

  private cronStatus(): NonNullable<Status['cron']> {
    return {
      suspended: this.spec?.cron?.suspend ?? false,
      ...(this.nextAt ? { nextRunAt: this.nextAt.toISOString() } : {}),
      ...(this.runs.length > 0 ? { lastRun: this.runs.at(-1)! } : {}),
    };
  }

  async stopAll(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.say('stopping');
    await Promise.all([...this.running.values()].map((r) => endReplica(r)));
    this.nextAt = undefined;
    await this.report({ state: 'stopped', replicas: [], cron: this.cronStatus() });
    await this.closeFiles();
  }
}

/**
 * What every local supervisor process shares (supervisor.ts for MicroServices and Workers,
 * cron-runner.ts for CronJobs): its status file written in order, its own log and the app log
 * its processes write to, the cgroup name their limits go under, and reading desired.json for a
 * generation not seen yet, one at a time.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { AppLog } from './app-log.js';
import { files, readJson, writeJson, type Desired, type Status } from './protocol.js';

export abstract class SupervisorBase {
  protected status: Status;
  /** Generations taken and restarts, one after another. */
  protected queue: Promise<void> = Promise.resolve();
  private writes: Promise<void> = Promise.resolve();
  protected stopped = false;
  private readonly log: WriteStream;
  protected readonly appLog: AppLog;
  /** The cgroups of this component's processes go below this name (one per process: `<name>/<port>`). */
  protected readonly cgroupName: string;

  constructor(protected readonly dir: string) {
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
    const hash = createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 12);
    this.cgroupName = `deployer/${hash}-${path.basename(path.dirname(dir))}.${path.basename(dir)}`;
  }

  /** A line of supervisor.log. */
  protected say(message: string): void {
    this.log.write(`${new Date().toISOString()} ${message}\n`);
  }

  /** Status writes are chained so they land in order. */
  protected report(patch: Partial<Status>): Promise<void> {
    this.status = { ...this.status, ...patch, updatedAt: new Date().toISOString() };
    const snapshot = this.status;
    return this.afterWrites(() => writeJson(files(this.dir).status, snapshot));
  }

  /** A write of another file, in order with the status writes. */
  protected afterWrites(write: () => Promise<void>): Promise<void> {
    this.writes = this.writes.then(write).catch(() => undefined);
    return this.writes;
  }

  /** Reads desired.json and takes it if it is a generation not seen yet. Serialized. */
  reload(): Promise<void> {
    this.queue = this.queue.then(async () => {
      const desired = await readJson<Desired>(files(this.dir).desired);
      if (!desired || desired.generation <= this.status.generation || this.stopped) return;
      await this.take(desired);
    });
    return this.queue;
  }

  /** A new generation: what this supervisor does with it. */
  protected abstract take(desired: Desired): Promise<void>;

  /** Stops everything it runs and ends its files. */
  abstract stopAll(): Promise<void>;

  /** The last writes landed and both logs closed. */
  protected async closeFiles(): Promise<void> {
    await this.writes;
    await this.appLog.close();
    await new Promise<void>((r) => this.log.end(() => r()));
  }
}

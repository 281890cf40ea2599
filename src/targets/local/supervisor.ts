/**
 * The supervisor of a local MicroService: a detached process (own process group) that owns the
 * public port through a SwitchingProxy, runs the service's command on a private port, restarts
 * it when it dies, and rolls out a new generation as "start new, check healthy, switch, drain,
 * stop old" — so the service keeps answering during an update, and a new version that fails
 * its health check never receives traffic.
 *
 * Run as `node supervisor.js <runtimeDir>`; SIGHUP = read desired.json again; SIGTERM = stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, openSync, closeSync, type WriteStream } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { freePort } from '../../util/net.js';
import { waitHealthy } from './health.js';
import { files, readJson, writeJson, type Desired, type ProcessSpec, type Status } from './protocol.js';
import { SwitchingProxy } from './proxy.js';

interface Running {
  child: ChildProcess;
  port: number;
  generation: number;
  spec: ProcessSpec;
  /** Set when we stop it on purpose, so its exit is not treated as a crash. */
  stopping: boolean;
  exited: boolean;
}

/** Variables a service process inherits from the supervisor; nothing of deployer's or Pulumi's own. */
const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'USER', 'SHELL', 'NODE_OPTIONS'];

export class Supervisor {
  private proxy: SwitchingProxy | undefined;
  private current: Running | undefined;
  private status: Status;
  private queue: Promise<void> = Promise.resolve();
  private restartDelayMs = 500;
  private stopped = false;
  private readonly log: WriteStream;

  constructor(private readonly dir: string) {
    this.status = { generation: 0, servingGeneration: 0, state: 'starting', supervisorPid: process.pid, restarts: 0, updatedAt: new Date().toISOString() };
    this.log = createWriteStream(files(dir).supervisorLog, { flags: 'a' });
  }

  private say(message: string): void {
    this.log.write(`${new Date().toISOString()} ${message}\n`);
  }

  private async report(patch: Partial<Status>): Promise<void> {
    this.status = { ...this.status, ...patch, updatedAt: new Date().toISOString() };
    await writeJson(files(this.dir).status, this.status);
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

  private async rollout(desired: Desired): Promise<void> {
    const { spec, generation } = desired;
    this.say(`rolling out generation ${generation}: ${spec.command.join(' ')} on port ${spec.port}`);
    await this.report({ generation, state: 'starting' });
    let oldProxy: SwitchingProxy | undefined;
    let next: Running | undefined;
    try {
      if (!this.proxy || this.proxy.port !== spec.port) {
        const proxy = new SwitchingProxy();
        await proxy.listen(spec.port).catch((err: NodeJS.ErrnoException) => {
          throw new Error(err.code === 'EADDRINUSE' ? `port ${spec.port} is already in use` : `cannot listen on port ${spec.port}: ${err.message}`);
        });
        oldProxy = this.proxy;
        this.proxy = proxy;
        proxy.switchTo(this.current?.port);
      }
      next = await this.start(spec, generation);
      const old = this.current;
      this.current = next;
      this.proxy.switchTo(next.port);
      if (oldProxy) await oldProxy.close();
      await this.report({ state: 'ready', servingGeneration: generation, proxyPort: spec.port, backendPort: next.port, childPid: next.child.pid, error: undefined });
      this.say(`generation ${generation} is serving on port ${spec.port} (backend ${next.port})`);
      if (old) await this.stopChild(old, true);
    } catch (err) {
      const message = (err as Error).message;
      this.say(`generation ${generation} failed: ${message}`);
      if (next && next !== this.current) await this.stopChild(next, false);
      if (oldProxy) {
        // Keep serving on the old port with the old version.
        await this.proxy?.close();
        this.proxy = oldProxy;
      }
      await this.report({ state: 'failed', error: message });
    }
  }

  private async start(spec: ProcessSpec, generation: number): Promise<Running> {
    const port = await freePort();
    const env: Record<string, string> = {};
    for (const k of INHERITED_ENV) if (process.env[k] !== undefined) env[k] = process.env[k]!;
    Object.assign(env, spec.env, { PORT: String(port) });
    const out = openSync(files(this.dir).appLog, 'a');
    let child: ChildProcess;
    try {
      child = spawn(spec.command[0]!, spec.command.slice(1), { cwd: spec.cwd, env, stdio: ['ignore', out, out] });
    } finally {
      closeSync(out);
    }
    const running: Running = { child, port, generation, spec, stopping: false, exited: false };
    let spawnError: string | undefined;
    child.on('error', (err) => {
      // Spawning failed (e.g. ENOENT): there is no process, and no 'exit' will follow.
      spawnError = `cannot start ${spec.command[0]}: ${err.message}`;
      if (child.pid === undefined) running.exited = true;
    });
    child.on('exit', (code, signal) => {
      running.exited = true;
      if (running.stopping || this.stopped) return;
      const how = signal ? `signal ${signal}` : `exit code ${code}`;
      this.say(`generation ${generation} process ${child.pid} ended (${how})`);
      if (this.current === running) void this.restartAfterCrash(running);
    });
    await waitHealthy({
      port,
      path: spec.healthCheck.path,
      healthyThreshold: spec.healthCheck.healthyThreshold,
      unhealthyThreshold: spec.healthCheck.unhealthyThreshold,
      gracePeriodMs: spec.healthCheck.gracePeriod * 1000,
      intervalMs: spec.healthCheck.interval * 1000,
      timeoutMs: spec.startTimeout * 1000,
      checkTimeoutMs: spec.healthCheck.timeout * 1000,
      abandoned: () => spawnError ?? (running.exited ? `the process exited before it became healthy (see ${files(this.dir).appLog})` : undefined),
    }).catch(async (err: Error) => {
      await this.stopChild(running, false);
      throw err;
    });
    return running;
  }

  private async restartAfterCrash(crashed: Running): Promise<void> {
    this.queue = this.queue.then(async () => {
      if (this.stopped || this.current !== crashed) return;
      await this.report({ state: 'restarting', restarts: this.status.restarts + 1 });
      await new Promise((r) => setTimeout(r, this.restartDelayMs));
      this.restartDelayMs = Math.min(30_000, this.restartDelayMs * 2);
      try {
        const next = await this.start(crashed.spec, crashed.generation);
        this.current = next;
        this.proxy?.switchTo(next.port);
        this.restartDelayMs = 500;
        await this.report({ state: 'ready', backendPort: next.port, childPid: next.child.pid, error: undefined });
      } catch (err) {
        this.say(`restart failed: ${(err as Error).message}`);
        void this.restartAfterCrash(crashed);
      }
    });
  }

  /** Stops a process: drain its requests first when it was serving, then SIGTERM, then SIGKILL. */
  private async stopChild(r: Running, drain: boolean): Promise<void> {
    r.stopping = true;
    if (drain && this.proxy) await this.proxy.drain(r.port, 10_000);
    if (r.exited || r.child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => r.child.once('exit', () => resolve()));
    r.child.kill('SIGTERM');
    const killed = await Promise.race([exited.then(() => true), new Promise<boolean>((res) => setTimeout(() => res(false), 5_000))]);
    if (!killed) {
      r.child.kill('SIGKILL');
      await exited;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.say('stopping');
    await this.queue.catch(() => undefined);
    if (this.current) await this.stopChild(this.current, false);
    await this.proxy?.close();
    await this.report({ state: 'stopped' });
    await new Promise<void>((r) => this.log.end(() => r()));
  }
}

async function main(dir: string): Promise<void> {
  const supervisor = new Supervisor(dir);
  process.on('SIGHUP', () => void supervisor.reload());
  const shutdown = (): void => {
    void supervisor.stop().finally(() => process.exit(0));
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
  void main(dir);
}

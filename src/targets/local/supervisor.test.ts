/** The supervisor in this process: rollout, restart after a crash, port change, stop. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { get, getJson } from '../../../test/helpers/http.js';
import { freePort, repoRoot } from '../../../test/helpers/testdir.js';
import { isAlive } from '../../util/process.js';
import { LOCAL_HEALTH_DEFAULTS } from './index.js';
import { files, readJson, writeJson, type Desired, type ProcessSpec, type Status } from './protocol.js';
import { Supervisor } from './supervisor.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'deployer-sup-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function spec(env: Record<string, string>, port?: number): Promise<ProcessSpec & { port: number }> {
  return {
    command: [process.execPath, path.join(repoRoot, 'test/fixtures/apps/echo-server.mjs')],
    cwd: repoRoot,
    env,
    port: port ?? (await freePort()),
    healthCheck: { ...LOCAL_HEALTH_DEFAULTS, interval: 0.2 },
    startTimeout: 10,
  };
}

async function status(dir: string): Promise<Status> {
  return (await readJson<Status>(files(dir).status))!;
}

/** The status once `ok` holds for it (status.json is polled as the supervisor rewrites it). */
async function until(dir: string, ok: (s: Status) => boolean): Promise<Status> {
  for (;;) {
    const s = await readJson<Status>(files(dir).status);
    if (s && ok(s)) return s;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('Supervisor', () => {
  it('serves, restarts a crashed process, moves to a new port, and stops everything', async () => {
    const dir = path.join(root, 'one');
    mkdirSync(dir, { recursive: true });
    const s1 = await spec({ VERSION: 'v1' });
    await writeJson(files(dir).desired, { generation: 1, spec: s1 } satisfies Desired);
    const supervisor = new Supervisor(dir);
    await supervisor.reload();
    expect(await status(dir)).toMatchObject({ generation: 1, state: 'ready', servingGeneration: 1, proxyPort: s1.port });
    expect(await getJson(s1.port)).toMatchObject({ version: 'v1' });

    // The service process dies: the supervisor starts it again and traffic resumes.
    const crashed = (await status(dir)).childPid!;
    process.kill(crashed, 'SIGKILL');
    let st = await status(dir);
    while (!(st.state === 'ready' && st.childPid !== crashed)) {
      await new Promise((r) => setTimeout(r, 50));
      st = await status(dir);
    }
    expect(st.restarts).toBe(1);
    expect(await getJson(s1.port)).toMatchObject({ version: 'v1' });

    // A generation on another port: the new port serves, the old one is closed.
    const s2 = await spec({ VERSION: 'v2' });
    await writeJson(files(dir).desired, { generation: 2, spec: s2 } satisfies Desired);
    await supervisor.reload();
    expect(await getJson(s2.port)).toMatchObject({ version: 'v2' });
    await expect(get(s1.port)).rejects.toThrow(/ECONNREFUSED/);

    // An older or equal generation is ignored.
    await writeJson(files(dir).desired, { generation: 2, spec: s1 } satisfies Desired);
    await supervisor.reload();
    expect((await status(dir)).proxyPort).toBe(s2.port);

    const child = (await status(dir)).childPid!;
    await supervisor.stopAll();
    expect((await status(dir)).state).toBe('stopped');
    expect(isAlive(child)).toBe(false);
    await expect(get(s2.port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a command that does not exist fails the generation with the reason', async () => {
    const dir = path.join(root, 'missing');
    mkdirSync(dir, { recursive: true });
    const s = { ...(await spec({})), command: ['/nonexistent/binary'] };
    await writeJson(files(dir).desired, { generation: 1, spec: s } satisfies Desired);
    const supervisor = new Supervisor(dir);
    await supervisor.reload();
    expect(await status(dir)).toMatchObject({ state: 'failed', servingGeneration: 0 });
    expect((await status(dir)).error).toMatch(/cannot start \/nonexistent\/binary|exited before it became healthy/);
    await supervisor.stopAll();
  });

  it('adopts a generation that asks for what serves (a rollback), replaces for a restart or a new spec', async () => {
    const dir = path.join(root, 'adopt');
    mkdirSync(dir, { recursive: true });
    const v1 = await spec({ VERSION: 'v1' });
    await writeJson(files(dir).desired, { generation: 1, spec: v1 } satisfies Desired);
    const supervisor = new Supervisor(dir);
    await supervisor.reload();
    const serving = (await status(dir)).childPid;
    // The same processes asked for again, with another strategy (a rollback's): nothing restarts.
    const rollback = {
      ...v1,
      strategy: {
        type: 'blue-green' as const,
        maxUnavailable: 0,
        maxSurge: 1,
        steps: [],
        maxErrorRate: 5,
        terminationWaitMs: 0,
        timeoutMs: 60_000,
      },
    };
    await writeJson(files(dir).desired, { generation: 2, spec: rollback } satisfies Desired);
    await supervisor.reload();
    expect(await status(dir)).toMatchObject({ generation: 2, servingGeneration: 2, state: 'ready', childPid: serving });
    // A rolling restart of the same spec replaces the process.
    await writeJson(files(dir).desired, { generation: 3, spec: rollback, reason: 'restart' } satisfies Desired);
    await supervisor.reload();
    const restarted = (await status(dir)).childPid;
    expect(restarted).not.toBe(serving);
    // Another environment is another spec: a rollout.
    await writeJson(files(dir).desired, { generation: 4, spec: { ...rollback, env: { VERSION: 'v1b' } } } satisfies Desired);
    await supervisor.reload();
    expect(await getJson(v1.port)).toMatchObject({ version: 'v1b' });
    expect((await status(dir)).childPid).not.toBe(restarted);
    await supervisor.stopAll();
  });

  it('counts processes that die early in the circuit breaker: open at the threshold, a trial after the recovery time, closed after it lives', async () => {
    const dir = path.join(root, 'breaker');
    mkdirSync(dir, { recursive: true });
    const v1 = await spec({ VERSION: 'v1' });
    const breaker = { failureThreshold: 2, recoveryTimeoutMs: 4000 };
    await writeJson(files(dir).desired, { generation: 1, spec: v1, breaker } satisfies Desired);
    const supervisor = new Supervisor(dir);
    await supervisor.reload();
    const first = (await status(dir)).childPid!;
    process.kill(first, 'SIGKILL');
    // Below the threshold: restarted, and the count is said.
    const second = (await until(dir, (s) => s.state === 'ready' && s.childPid !== undefined && s.childPid !== first)).childPid!;
    expect((await status(dir)).breaker).toMatchObject({ position: 'closed', failures: 1 });
    process.kill(second, 'SIGKILL');
    // At the threshold: not restarted; nothing serves, and the status says why and until when.
    const open = await until(dir, (s) => s.breaker?.position === 'open');
    expect(open).toMatchObject({ state: 'failed', replicas: [], restarts: 1 });
    expect(open.error).toMatch(/^circuit breaker open: 2 process\(es\) died in a row; not restarted until \d{4}-/);
    expect(await get(v1.port)).toEqual({ status: 503, body: 'no healthy backend\n' });
    // After the recovery time, one trial restart (half-open); once it has lived as long, closed.
    const trial = await until(dir, (s) => s.state === 'ready' && (s.replicas?.length ?? 0) === 1);
    expect(trial.breaker?.position).toBe('half-open');
    expect(trial.restarts).toBe(2);
    expect(await getJson(v1.port)).toMatchObject({ version: 'v1' });
    await until(dir, (s) => s.breaker === undefined);
    await supervisor.stopAll();
  });

  it('replaces a process that stops answering its health check, and reports the last check', async () => {
    const dir = path.join(root, 'liveness');
    mkdirSync(dir, { recursive: true });
    const v1 = await spec({ VERSION: 'v1' });
    await writeJson(files(dir).desired, { generation: 1, spec: v1 } satisfies Desired);
    const supervisor = new Supervisor(dir, { livenessMinIntervalMs: 200 });
    await supervisor.reload();
    const first = (await until(dir, (s) => s.lastHealthCheck?.status === 'healthy')).childPid!;
    // Its health check fails from now on: after 3 failed checks in a row it is killed and replaced.
    await get(v1.port, '/sicken');
    await until(dir, (s) => s.lastHealthCheck?.status === 'unhealthy');
    const replaced = await until(dir, (s) => s.state === 'ready' && s.childPid !== undefined && s.childPid !== first);
    expect(replaced.restarts).toBe(1);
    expect(replaced.lastExit?.reason).toBe(`process ${first}: killed: it failed its health check 3 times in a row`);
    expect(isAlive(first)).toBe(false);
    await until(dir, (s) => s.lastHealthCheck?.status === 'healthy' && Date.parse(s.lastHealthCheck.at) > Date.parse(replaced.updatedAt));
    expect(await getJson(v1.port)).toMatchObject({ version: 'v1' });
    await supervisor.stopAll();
  });
});

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

async function spec(env: Record<string, string>, port?: number): Promise<ProcessSpec> {
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
});

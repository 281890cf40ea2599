/**
 * The local MicroService provider against real processes: the supervisor (compiled, in
 * dist/) is started detached, serves through its proxy, rolls out updates without a failed
 * request, keeps the old version when a new one is unhealthy, and is stopped on delete.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getJson, steadyTraffic } from '../../../test/helpers/http.js';
import { freePort, repoRoot } from '../../../test/helpers/testdir.js';
import { isAlive } from '../../util/process.js';
import { LOCAL_HEALTH_DEFAULTS } from './index.js';
import * as ms from './microservice.js';
import { files, type Desired } from './protocol.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'deployer-ms-'));
const runtimeDirs: string[] = [];
afterAll(async () => {
  // A test that fails half-way still leaves no supervisor behind.
  for (const dir of runtimeDirs) await ms.remove(dir).catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

async function inputs(name: string, env: Record<string, string>): Promise<ms.MicroServiceInputs & { port: number }> {
  runtimeDirs.push(path.join(root, name));
  return {
    kind: 'MicroService',
    component: `test/${name}`,
    runtimeDir: path.join(root, name),
    command: [process.execPath, path.join(repoRoot, 'test/fixtures/apps/echo-server.mjs')],
    cwd: repoRoot,
    env,
    port: await freePort(),
    healthCheck: { ...LOCAL_HEALTH_DEFAULTS },
    startTimeout: 10,
  };
}

describe('local MicroService', () => {
  it('creates, updates under traffic, refuses an unhealthy version, reads, and deletes', async () => {
    const v1 = await inputs('api', { VERSION: 'v1' });
    const created = await ms.create(v1);
    expect(created.id).toBe(v1.runtimeDir);
    expect(created.outs).toMatchObject({ url: `http://127.0.0.1:${v1.port}`, running: true, generation: 1 });
    expect(await getJson(v1.port)).toMatchObject({ version: 'v1' });

    const traffic = steadyTraffic(v1.port);
    const v2 = { ...v1, env: { VERSION: 'v2' } };
    const updated = await ms.update(created.id, created.outs, v2);
    expect(updated.outs.generation).toBe(2);
    expect(await getJson(v1.port)).toMatchObject({ version: 'v2' });

    const bad = { ...v1, env: { VERSION: 'v3', HEALTHY: 'false' } };
    await expect(ms.update(created.id, updated.outs, bad)).rejects.toThrow(
      /answered unhealthy 3 times in a row.* The previous version keeps serving/s,
    );
    const seen = await traffic.stop();
    expect(seen.failed, seen.errors.join('\n')).toBe(0);
    expect(await getJson(v1.port)).toMatchObject({ version: 'v2' });

    const read = await ms.read(created.id, updated.outs);
    expect(read).toMatchObject({ id: created.id, props: { running: true } });

    await ms.remove(created.id);
    expect(isAlive(created.outs.pid)).toBe(false);
    expect(existsSync(v1.runtimeDir)).toBe(false);
    expect(await ms.read(created.id, updated.outs)).toEqual({});
  });

  it('a create whose process cannot start fails with its log and leaves nothing running', async () => {
    const broken = await inputs('broken', { EXIT_AT_START: '3' });
    await expect(ms.create(broken)).rejects.toThrow(/exited before it became healthy/);
    expect(existsSync(broken.runtimeDir)).toBe(false);
  });

  it('a port in use is reported as such', async () => {
    const first = await inputs('first', { VERSION: 'a' });
    const created = await ms.create(first);
    const second = { ...(await inputs('second', { VERSION: 'b' })), port: first.port };
    await expect(ms.create(second)).rejects.toThrow(new RegExp(`port ${first.port} is already in use`));
    await ms.remove(created.id);
  });

  it('reads a killed supervisor as not running, and update starts it again', async () => {
    const v1 = await inputs('revive', { VERSION: 'v1' });
    const created = await ms.create(v1);
    process.kill(-created.outs.pid, 'SIGKILL');
    while (isAlive(created.outs.pid)) await new Promise((r) => setTimeout(r, 20));
    expect(await ms.read(created.id, created.outs)).toMatchObject({ props: { running: false } });
    const again = await ms.update(created.id, created.outs, v1);
    expect(again.outs.running).toBe(true);
    expect(await getJson(v1.port)).toMatchObject({ version: 'v1' });
    await ms.remove(created.id);
  });

  it("read reports what really serves: a generation rolled out behind deployer's back, and health only when it fails", async () => {
    const v1 = await inputs('behind', { VERSION: 'v1' });
    const created = await ms.create(v1);
    expect((await ms.read(created.id, created.outs)).props).not.toHaveProperty('healthy');
    const f = files(created.id);
    const desired = JSON.parse(readFileSync(f.desired, 'utf8')) as Desired;
    writeFileSync(f.desired, JSON.stringify({ generation: desired.generation + 1, spec: { ...desired.spec, env: { VERSION: 'v9' } } }));
    process.kill(created.outs.pid, 'SIGHUP');
    await expect.poll(async () => (await getJson<{ version: string }>(v1.port)).version, { timeout: 20_000 }).toBe('v9');
    // The proxy switches before the supervisor records the new generation as serving: wait for the record.
    await expect.poll(async () => (await ms.read(created.id, created.outs)).props?.env, { timeout: 20_000 }).toEqual({ VERSION: 'v9' });
    const read = await ms.read(created.id, created.outs);
    expect(read.props).toMatchObject({ env: { VERSION: 'v9' }, port: v1.port, running: true });
    expect(read.props).not.toHaveProperty('healthy');
    await ms.remove(created.id);
  });

  it('diff: any input change is an update, a new runtime directory a replacement', async () => {
    const v1 = await inputs('diff', {});
    const outs = { ...v1, url: '', pid: 1, generation: 1, running: true };
    expect(await ms.diff(outs, v1)).toEqual({ changes: false, replaces: [] });
    expect(await ms.diff(outs, { ...v1, env: { A: '1' } })).toEqual({ changes: true, replaces: [] });
    expect(await ms.diff(outs, { ...v1, runtimeDir: '/elsewhere' })).toEqual({ changes: true, replaces: ['runtimeDir'] });
  });
});

/**
 * Failures through the real engine: a component that cannot start fails, what depends on it is
 * skipped ("upstream failed"), the other branch is deployed; fixing it resumes with only the
 * unfinished work; an upstream output change propagates to the components that use it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployer, deployerJson } from '../helpers/cli.js';
import { getJson } from '../helpers/http.js';
import { editFile, freePort, removeTestdirs, repoRoot, testdir, walk } from '../helpers/testdir.js';

interface Report {
  id: string;
  result: string;
  reason?: string;
  causes?: string[];
  engine: boolean;
}
interface ApplyJson {
  ok: boolean;
  summary: {
    counts: Record<string, number>;
    engineOperations: number;
    components: Report[];
    rollback?: { ok: boolean; triggers: string[]; components: Report[] };
  };
}

let dir: string;
const ports: Record<string, number> = {};
const args = (...a: string[]): string[] => [...a, '-C', dir, '-e', 'test'];
const byId = (json: ApplyJson): Record<string, Report> => Object.fromEntries(json.summary.components.map((c) => [c.id, c]));

/** A secret the api receives through `secretRef: {provider: env}`; it must not be written anywhere. */
const TOKEN = 'tok-5f1c0e9a7b3d42e8a6c4d2b0f8e6a4c2';

beforeAll(async () => {
  process.env['BRANCHES_TOKEN'] = TOKEN;
  for (const name of ['API', 'BROKEN', 'WORKER']) ports[name] = await freePort();
  dir = testdir('branches', {
    PORT_API: String(ports['API']),
    PORT_BROKEN: String(ports['BROKEN']),
    PORT_WORKER: String(ports['WORKER']),
    ECHO_SERVER: path.join(repoRoot, 'test/fixtures/apps/echo-server.mjs'),
  });
});

afterAll(async () => {
  await deployer(args('destroy', '--yes'));
  removeTestdirs();
});

describe('a failing branch', () => {
  it('fails the broken component, skips its dependents, and deploys the other branch', async () => {
    const reportFile = path.join(dir, 'reports', 'first.json');
    const { code, json } = await deployerJson<ApplyJson>([...args('apply', '--yes'), '--report', reportFile]);
    expect(code).toBe(1);
    expect(json.ok).toBe(false);
    const r = byId(json);
    expect(r['shop/broken']).toMatchObject({ result: 'failed' });
    expect(r['shop/broken']!.reason).toMatch(/exited before it became healthy/);
    expect(r['shop/worker']).toMatchObject({ result: 'skipped', causes: ['shop/broken'], engine: false });
    expect(r['shop/worker']!.reason).toBe('upstream failed: shop/broken');
    expect(r['shop/files']).toMatchObject({ result: 'created' });
    expect(r['shop/api']).toMatchObject({ result: 'created' });
    expect(await getJson(ports['API']!)).toMatchObject({ version: 'api-1', tokenLength: TOKEN.length });
    // rollback scope "failed" (partial recovery): only what the broken component left is undone.
    expect(json.summary.rollback).toMatchObject({
      ok: true,
      triggers: ['shop/broken'],
      components: [{ id: 'shop/broken', result: 'deleted' }],
    });

    // The report says the same, with times, Pulumi's summary and the outputs.
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as {
      format: string;
      ok: boolean;
      components: Array<
        Report & { startedAt?: string; endedAt?: string; changes?: Record<string, number>; outputs?: Record<string, unknown> }
      >;
    };
    expect(report).toMatchObject({ format: 'deployer-report/v1', ok: false });
    const api = report.components.find((c) => c.id === 'shop/api')!;
    expect(api).toMatchObject({ result: 'created', changes: { create: 2 }, outputs: { url: `http://127.0.0.1:${ports['API']}` } });
    expect(Date.parse(api.endedAt!)).toBeGreaterThan(Date.parse(api.startedAt!));
    expect(report.components.find((c) => c.id === 'shop/worker')).toMatchObject({ result: 'skipped', causes: ['shop/broken'] });
    expect(report.components.find((c) => c.id === 'shop/broken')!.reason).toMatch(/exited before it became healthy/);
  });

  it('never writes the resolved secret: not in state, Pulumi checkpoints, ledger, logs or workspaces', () => {
    // The exceptions are the process's own environment files (what it is to run, what it runs now), readable by their owner only.
    const runtime = path.join(dir, '.deployer/local/branches/test/services/shop/api');
    const processEnv = [path.join(runtime, 'desired.json'), path.join(runtime, 'serving.json')];
    for (const f of processEnv) expect(statSync(f).mode & 0o777).toBe(0o600);
    const files = walk(path.join(dir, '.deployer')).filter((f) => !processEnv.includes(f));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) expect(readFileSync(f).includes(TOKEN), f).toBe(false);
  });

  it('after the fix, a rerun does only the unfinished work', async () => {
    editFile(path.join(dir, 'services/shop/components.yaml'), '    EXIT_AT_START: "1"\n', '');
    const { code, json } = await deployerJson<ApplyJson>(args('apply', '--yes'));
    expect(code).toBe(0);
    const r = byId(json);
    expect(r['shop/broken']).toMatchObject({ result: 'created', engine: true });
    expect(r['shop/worker']).toMatchObject({ result: 'created', engine: true });
    expect(r['shop/files']).toMatchObject({ result: 'unchanged', engine: false });
    expect(r['shop/api']).toMatchObject({ result: 'unchanged', engine: false });
    expect(await getJson(ports['WORKER']!)).toMatchObject({ version: 'worker-1' });
  });

  it("propagates a dependency's new output to the component that uses it", async () => {
    const before = await getJson<{ assets: string }>(ports['API']!);
    expect(before.assets).toMatch(/shop-files$/);
    editFile(path.join(dir, 'services/shop/components.yaml'), 'bucketName: shop-files', 'bucketName: shop-files-v2');
    const { code, json } = await deployerJson<ApplyJson>(args('apply', '--yes'));
    expect(code).toBe(0);
    const r = byId(json);
    expect(r['shop/files']).toMatchObject({ result: 'updated' });
    expect(r['shop/api']).toMatchObject({ result: 'updated', engine: true });
    expect(r['shop/worker']).toMatchObject({ result: 'unchanged', engine: false });
    expect((await getJson<{ assets: string }>(ports['API']!)).assets).toMatch(/shop-files-v2$/);
  });

  it('destroys both branches in one operation, the api holding a secret with the rest', async () => {
    const { code, json } = await deployerJson<ApplyJson>(args('destroy', '--yes'));
    expect(code).toBe(0);
    expect(Object.values(byId(json)).map((r) => r.result)).toEqual(['deleted', 'deleted', 'deleted', 'deleted']);
    expect(json.summary.engineOperations).toBe(1);
    expect(existsSync(path.join(dir, '.deployer/local/branches/test/services/shop/api'))).toBe(false);
  });
});

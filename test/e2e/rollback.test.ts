/**
 * Rollback through the real engine, with a client sending requests the whole time: a new
 * version failing its health check is undone automatically (the new component destroyed, the
 * service redeployed at its previous version) while the old version keeps answering; the
 * circuit breaker stops a component that keeps failing; `deployer rollback` returns to the
 * last known good version on demand; hooks run around each deployment. Steps share one stack.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployer, deployerJson } from '../helpers/cli.js';
import { getJson, steadyTraffic } from '../helpers/http.js';
import { editFile, freePort, removeTestdirs, repoRoot, testdir } from '../helpers/testdir.js';

interface Report {
  id: string;
  result: string;
  reason?: string;
  engine: boolean;
}
interface ApplyJson {
  ok: boolean;
  summary: {
    serial: number;
    components: Report[];
    rollback?: { ok: boolean; triggers: string[]; reason: string; components: Report[]; durationMs: number; sinceFailureMs: number };
    advice?: string;
  };
}
interface StateJson {
  serial: number;
  components: Record<string, { spec: { env?: Record<string, unknown> }; status: string }>;
  lastRun?: { ok: boolean; rolledBack?: boolean; operation: string };
  breakers?: Record<string, { failures: number; openedAt?: string }>;
}

let dir: string;
let port: number;
let api: string;
const env = (): Record<string, string> => ({ DEPLOY_LEDGER_DB: path.join(dir, 'ledger.db') });
const args = (...a: string[]): string[] => [...a, '-C', dir, '-e', 'test'];
const byId = (reports: Report[]): Record<string, Report> => Object.fromEntries(reports.map((c) => [c.id, c]));
const state = async (): Promise<StateJson> => (await deployerJson<StateJson>(args('state', 'show'), env())).json;

const EXTRA = `---
apiVersion: components.deployer.io/v1
kind: S3
metadata:
  name: extra
spec:
  bucketName: rollback-extra
`;

beforeAll(async () => {
  port = await freePort();
  dir = testdir('rollback', { PORT_API: String(port), ECHO_SERVER: path.join(repoRoot, 'test/fixtures/apps/echo-server.mjs') });
  api = path.join(dir, 'services/web/api.yaml');
});

afterAll(async () => {
  await deployer(args('destroy', '--yes'), env());
  removeTestdirs();
});

describe('rollback', () => {
  it('deploys v1, running the pre and post hooks with the component and its outputs', async () => {
    const { code, json } = await deployerJson<ApplyJson>(args('apply', '--yes'), env());
    expect(code, JSON.stringify(json)).toBe(0);
    expect(await getJson(port)).toMatchObject({ version: 'v1' });
    expect(readFileSync(path.join(dir, 'hook.log'), 'utf8')).toBe(
      `pre create web/api test -\npost create web/api test http://127.0.0.1:${port}\n`,
    );
    expect((await state()).lastRun).toMatchObject({ ok: true, operation: 'apply' });
  });

  it('a version failing its health check is rolled back automatically, with no failed request', async () => {
    const before = await state();
    editFile(api, 'VERSION: v1', 'VERSION: v2\n    HEALTHY: "false"');
    editFile(path.join(dir, 'services/web/service.yaml'), '"1.0.0"', '"2.0.0"');
    editFile(api, 'bucketName: rollback-files\n', `bucketName: rollback-files\n${EXTRA}`);
    const traffic = steadyTraffic(port);
    const { code, json } = await deployerJson<ApplyJson>(args('apply', '--yes', '--concurrency', '1'), env());
    const seen = await traffic.stop();
    expect(code).toBe(1);
    expect(byId(json.summary.components)['web/api']!.reason).toMatch(/answered unhealthy 3 times in a row/);
    const rb = json.summary.rollback!;
    expect(rb).toMatchObject({ ok: true, triggers: ['web/api'] });
    expect(byId(rb.components)).toMatchObject({ 'web/extra': { result: 'deleted' }, 'web/api': { result: 'updated' } });
    // Seed 002's 30 s: measured by `BENCH_ONLY=rollback npm run bench`, not asserted on a clock here.
    // The old version answered every request, before, during and after.
    expect(seen.failed, seen.errors.join('\n')).toBe(0);
    expect(Object.keys(seen.versions)).toEqual(['v1']);
    expect(await getJson(port)).toMatchObject({ version: 'v1' });

    const after = await state();
    expect(Object.keys(after.components).sort()).toEqual(['web/api', 'web/files']);
    expect(after.components['web/api']).toMatchObject({ status: 'deployed', spec: { env: before.components['web/api']!.spec.env } });
    expect(after.lastRun).toMatchObject({ ok: false, rolledBack: true });
    expect(existsSync(path.join(dir, '.deployer/local/rollback/test/buckets/rollback-extra'))).toBe(false);

    const rollbacks = (await deployerJson<{ rollbacks: Array<Record<string, string>> }>(args('ledger', 'list-rollbacks'), env())).json
      .rollbacks;
    expect(rollbacks).toEqual([
      expect.objectContaining({
        service: 'web',
        fromVersion: '2.0.0',
        toVersion: '1.0.0',
        reason: expect.stringMatching(/^automatic: web\/api failed: /),
      }),
    ]);
    const deployments = (await deployerJson<{ deployments: Array<Record<string, string>> }>(args('ledger', 'list-deployments'), env())).json
      .deployments;
    expect(deployments[0]).toMatchObject({ service: 'web', version: '2.0.0', status: 'rolled-back' });
    // The rollback names the deployment it undid.
    expect(rollbacks[0]!['deploymentId']).toBe(deployments[0]!['id']);
  });

  it('the circuit breaker opens after repeated failures: the component is not deployed at all', async () => {
    // Second failure in a row: the threshold of the fixture (2) is reached.
    const second = await deployerJson<ApplyJson>(args('apply', '--yes'), env());
    expect(second.code).toBe(1);
    expect((await state()).breakers?.['web/api']).toMatchObject({ failures: 2, openedAt: expect.any(String) });
    const third = await deployerJson<ApplyJson>(args('apply', '--yes'), env());
    expect(third.code).toBe(1);
    const r = byId(third.json.summary.components)['web/api']!;
    expect(r).toMatchObject({ result: 'failed', engine: false });
    expect(r.reason).toMatch(/circuit breaker open: 2 failed deployments in a row .* A trial deployment is allowed from /);
    expect(await getJson(port)).toMatchObject({ version: 'v1' });
  });

  it('with the cause fixed and the breaker turned off, v2 deploys; deployer rollback returns to the last good v1', async () => {
    editFile(api, '\n    HEALTHY: "false"', '');
    editFile(path.join(dir, 'stack.yaml'), 'failureThreshold: 2', 'enabled: false\n    failureThreshold: 2');
    const fixed = await deployerJson<ApplyJson>(args('apply', '--yes'), env());
    expect(fixed.code, JSON.stringify(fixed.json.summary.components)).toBe(0);
    expect(await getJson(port)).toMatchObject({ version: 'v2' });
    expect((await state()).breakers).toBeUndefined();

    const traffic = steadyTraffic(port);
    const { code, json } = await deployerJson<ApplyJson>(args('rollback', '--yes'), env());
    const seen = await traffic.stop();
    expect(code, JSON.stringify(json)).toBe(0);
    expect(byId(json.summary.components)).toMatchObject({
      'web/extra': { result: 'deleted' },
      'web/api': { result: 'updated' },
      'web/files': { result: 'unchanged' },
    });
    expect(seen.failed, seen.errors.join('\n')).toBe(0);
    expect(await getJson(port)).toMatchObject({ version: 'v1' });
    const rollbacks = (await deployerJson<{ rollbacks: Array<Record<string, string>> }>(args('ledger', 'list-rollbacks'), env())).json
      .rollbacks;
    expect(rollbacks[0]).toMatchObject({
      service: 'web',
      fromVersion: '2.0.0',
      toVersion: '1.0.0',
      reason: expect.stringMatching(/^rollback to serial \d+ \(last known good\)$/),
    });
  });

  it('refuses a serial that does not exist, changing nothing', async () => {
    const serial = (await state()).serial;
    const r = await deployer(args('rollback', '--to', '9999', '--yes'), env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no stored version 9999 of rollback\/test/);
    expect((await deployer(args('rollback', '--to', 'x', '--yes'), env())).code).toBe(2);
    expect((await state()).serial).toBe(serial);
  });

  it('restart: a rolling restart replaces every process with no failed request, recorded as a restart, not a deployment', async () => {
    const serial = (await state()).serial;
    const pidsBefore = new Set<number>();
    for (let i = 0; i < 6; i++) pidsBefore.add((await getJson<{ pid: number }>(port)).pid);
    const traffic = steadyTraffic(port);
    const r = await deployer(args('restart', 'web/api'), env());
    const seen = await traffic.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/web\/api: restarted: generation \d+ serves http:\/\/127\.0\.0\.1:\d+ \(\d+\.\ds\)\nRestarted 1 service\./);
    expect(seen.failed, seen.errors.join('\n')).toBe(0);
    const pidsAfter = new Set<number>();
    for (let i = 0; i < 6; i++) pidsAfter.add((await getJson<{ pid: number }>(port)).pid);
    expect(pidsAfter.size).toBe(2);
    expect([...pidsAfter].some((p) => pidsBefore.has(p))).toBe(false);
    expect((await state()).serial).toBe(serial);
    // The ledger keeps the restart, of the version that runs, as no deployment of any metric.
    const [restart] = (
      await deployerJson<{ deployments: Array<Record<string, unknown>> }>(args('ledger', 'list-deployments', '--limit', '1'), env())
    ).json.deployments;
    expect(restart).toMatchObject({ service: 'web', operation: 'restart', status: 'success', version: '1.0.0' });
    const bucket = await deployer(args('restart', 'web/files'), env());
    expect(bucket.code).toBe(2);
    expect(bucket.stderr).toMatch(/web\/files is an S3: only a MicroService, a Worker or a CronJob runs processes to restart/);
  });
});

/**
 * `deployer rollback` (= `--last-good`) through the real engine, with a client counting failed
 * requests: with one good version there is nothing to go back to (said, nothing changed); after
 * a good v2 it goes back to v1; after a failed v3 left in place (rollback: manual) it goes back to
 * the good version before it, keeping the processes that serve. Each rollback's from and to are
 * versions of deployment rows of the ledger.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployer, deployerJson } from '../helpers/cli.js';
import { getJson, steadyTraffic } from '../helpers/http.js';
import { editFile, freePort, removeTestdirs, repoRoot, testdir } from '../helpers/testdir.js';

interface Deployment {
  id: string;
  version: string;
  status: string;
}
interface Rollback {
  fromVersion: string;
  toVersion: string;
  reason: string;
}

let dir: string;
let port: number;
/** The version v2's apply ended with, for `--to`. */
let v2Serial: number;
let api: string;
const env = (): Record<string, string> => ({ DEPLOY_LEDGER_DB: path.join(dir, 'ledger.db') });
const args = (...a: string[]): string[] => [...a, '-C', dir, '-e', 'test'];
const ledger = async (): Promise<{ deployments: Deployment[]; rollbacks: Rollback[] }> => ({
  deployments: (await deployerJson<{ deployments: Deployment[] }>(args('ledger', 'list-deployments'), env())).json.deployments,
  rollbacks: (await deployerJson<{ rollbacks: Rollback[] }>(args('ledger', 'list-rollbacks'), env())).json.rollbacks,
});
const serial = async (): Promise<number> => (await deployerJson<{ serial: number }>(args('state', 'show'), env())).json.serial;

async function servingPids(): Promise<number[]> {
  const pids = new Set<number>();
  for (let i = 0; i < 15; i++) pids.add((await getJson<{ pid: number }>(port)).pid);
  return [...pids].sort();
}

beforeAll(async () => {
  port = await freePort();
  dir = testdir('strategies', {
    PORT_API: String(port),
    ECHO_SERVER: path.join(repoRoot, 'test/fixtures/apps/echo-server.mjs'),
    STRATEGY: '{type: rolling}',
  });
  api = path.join(dir, 'services/web/api.yaml');
});
afterAll(async () => {
  await deployer(args('destroy', '--yes'), env());
  removeTestdirs();
});

describe('rollback --last-good', () => {
  it('with only one good version: says so and changes nothing', async () => {
    expect((await deployer(args('apply', '--yes'), env())).code).toBe(0);
    const before = await serial();
    const r = await deployerJson<{ ok: boolean; changed: boolean; reason: string }>(args('rollback', '--yes'), env());
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({
      ok: true,
      changed: false,
      reason: expect.stringMatching(/the current version \(serial \d+\) is the only good one/),
    });
    expect(await serial()).toBe(before);
    expect((await ledger()).rollbacks).toEqual([]);
  });

  it('after a good v2: goes back to v1 with no failed request; from and to are the two deployments', async () => {
    editFile(api, 'VERSION: v1', 'VERSION: v2');
    expect((await deployer(args('apply', '--yes'), env())).code).toBe(0);
    expect(await getJson(port)).toMatchObject({ version: 'v2' });
    v2Serial = await serial();
    const traffic = steadyTraffic(port);
    const r = await deployer(args('rollback', '--last-good', '--yes'), env());
    const seen = await traffic.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(seen.failed, seen.errors.join('\n')).toBe(0);
    expect(await getJson(port)).toMatchObject({ version: 'v1' });
    const { deployments, rollbacks } = await ledger();
    const [v2, v1] = deployments;
    expect(v2).toMatchObject({ status: 'success' });
    expect(rollbacks[0]).toMatchObject({
      fromVersion: v2!.version,
      toVersion: v1!.version,
      reason: expect.stringMatching(/\(last known good\)$/),
      // `deployer rollback` undid the service's newest deployment.
      deploymentId: v2!.id,
    });
    expect(v2!.version).not.toBe(v1!.version);
  });

  it('after a failed v3 left in place (rollback: manual): goes back to the good version, keeping what serves', async () => {
    editFile(path.join(dir, 'stack.yaml'), 'rollback: auto', 'rollback: manual');
    editFile(api, 'VERSION: v2', 'VERSION: v3\n    HEALTHY: "false"');
    const failed = await deployerJson<{ summary: { advice?: string; rollback?: unknown } }>(args('apply', '--yes'), env());
    expect(failed.code).toBe(1);
    expect(failed.json.summary.rollback).toBeUndefined();
    expect(failed.json.summary.advice).toMatch(/deployer rollback --last-good/);
    const before = await servingPids();
    const traffic = steadyTraffic(port);
    const r = await deployer(args('rollback', '--yes'), env());
    const seen = await traffic.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(seen.failed, seen.errors.join('\n')).toBe(0);
    expect(Object.keys(seen.versions)).toEqual(['v1']);
    expect(await servingPids()).toEqual(before);
    const state = (await deployerJson<{ components: Record<string, { status: string }> }>(args('state', 'show'), env())).json;
    expect(state.components['web/api']!.status).toBe('deployed');
    const { deployments, rollbacks } = await ledger();
    const v3 = deployments[0]!;
    expect(v3).toMatchObject({ status: 'failed' });
    // Back to v1, as the first rollback went: a version the ledger has a deployment row of.
    const v1 = rollbacks[1]!.toVersion;
    expect(rollbacks[0]).toMatchObject({ fromVersion: v3.version, toVersion: v1 });
    expect(deployments.map((d) => d.version)).toContain(v1);
  });

  it('rollback --to N: that version, from the one the ledger last recorded to the deployment row of N', async () => {
    const r = await deployer(args('rollback', '--to', String(v2Serial), '--yes'), env());
    expect(r.code, r.stderr).toBe(0);
    expect(await getJson(port)).toMatchObject({ version: 'v2' });
    const { deployments, rollbacks } = await ledger();
    const v2 = deployments.find((d) => d.status === 'success' && d.version !== rollbacks[1]!.toVersion)!;
    expect(rollbacks[0]).toMatchObject({
      fromVersion: rollbacks[1]!.toVersion,
      toVersion: v2.version,
      reason: `rollback to serial ${v2Serial}`,
    });
  });
});

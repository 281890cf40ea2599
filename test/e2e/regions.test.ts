/**
 * A stack in two regions on the local target, through the real Pulumi engine: each region its
 * own processes, port, state, lock and Pulumi stacks; the traffic switch across regions within
 * the bound; a region failing before its switch calling the other's off (a barrier holds every
 * switch until all regions are ready); and a region failing after the switch rolling every
 * region back, the other region answering every request meanwhile.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployer, deployerJson } from '../helpers/cli.js';
import { editFile, freePort, removeTestdirs, testdir } from '../helpers/testdir.js';

let dir: string;
let eu: number;
let us: number;
const args = (...a: string[]): string[] => [...a, '-C', dir, '-e', 'prod'];
const answer = async (port: number): Promise<{ greeting: string; region: string }> =>
  (await fetch(`http://127.0.0.1:${port}/`)).json() as Promise<{ greeting: string; region: string }>;

interface Outcome {
  ok: boolean;
  regions: Array<{ region: string; summary?: { ok: boolean; runId: string }; rolledBack?: { ok: boolean } }>;
  switch: { lagMs: number; boundMs: number; withinBound: boolean; held: boolean; switchedAt: Record<string, Record<string, string>> };
}

/** Requests to `port` one after another until stopped: their statuses and the greetings answered, in order of first sight. */
function watch(port: number): { stop(): Promise<{ statuses: number[]; greetings: string[] }> } {
  let done = false;
  const statuses: number[] = [];
  const greetings = new Set<string>();
  const load = (async () => {
    while (!done) {
      const res = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
      statuses.push(res?.status ?? 0);
      if (res?.ok) greetings.add(((await res.json()) as { greeting: string }).greeting);
    }
  })();
  return {
    async stop() {
      done = true;
      await load;
      return { statuses, greetings: [...greetings] };
    },
  };
}

beforeAll(async () => {
  eu = await freePort();
  us = await freePort();
  dir = testdir('regions', { PORT_EU: String(eu), PORT_US: String(us) });
});
afterAll(async () => {
  await deployer(args('destroy', '--yes'));
  removeTestdirs();
});

describe('a stack in two regions', () => {
  it('plans and applies every region, each its own state and processes; the switch lag is within the bound', async () => {
    const planned = await deployerJson<{ regions: Array<{ region: string; plan: { environment: string } }> }>(args('plan'));
    expect(planned.json.regions.map((r) => `${r.region} ${r.plan.environment}`)).toEqual([
      'eu-west-1 prod/eu-west-1',
      'us-east-1 prod/us-east-1',
    ]);
    // Without --yes and not in a terminal: refused, nothing changed.
    const refused = await deployer(args('apply'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/needs --yes when it does not run in a terminal/);
    // Every region's plan saved in one file, then carried out exactly (no --yes: it was reviewed).
    const saved = await deployer(args('plan', '--out', path.join(dir, 'regions-plan.json')));
    expect(saved.stdout).toMatch(/Saved the plan of 2 regions/);
    const r = await deployerJson<Outcome>(args('apply', path.join(dir, 'regions-plan.json')));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.ok).toBe(true);
    expect(await answer(eu)).toEqual({ greeting: 'v1', region: 'eu-west-1' });
    expect(await answer(us)).toEqual({ greeting: 'v1', region: 'us-east-1' });
    expect(Object.keys(r.json.switch.switchedAt['web/api'] ?? {}).sort()).toEqual(['eu-west-1', 'us-east-1']);
    // The saved plan is spent: applied again, every region refuses it.
    const again = await deployer(args('apply', path.join(dir, 'regions-plan.json')));
    expect(again.code).toBe(2);
    expect(again.stdout).toMatch(/\[eu-west-1\] failed: the saved plan .* cannot be applied: the state is another history now/);
    expect(again.stdout).toMatch(/A region failed: nothing was changed in any region\./);
    expect(r.json.switch).toMatchObject({ boundMs: 5000, withinBound: true });
    expect(r.json.switch.lagMs).toBeLessThanOrEqual(5000);
    for (const region of ['eu-west-1', 'us-east-1']) {
      expect(existsSync(path.join(dir, '.deployer/stacks/regions/prod', region, 'state.json'))).toBe(true);
      const state = await deployerJson<{ environment: string; components: Record<string, { pulumiStack: string }> }>(
        args('state', 'show', '--region', region),
      );
      expect(state.json.environment).toBe(`prod/${region}`);
      expect(state.json.components['web/api']?.pulumiStack).toBe(`regions.prod.${region}.web.api`);
    }
    // Drift is checked in every region, each reported apart; a reconcile cycle runs per region.
    const drift = await deployerJson<{ drifted: boolean; regions: Array<{ region: string; counts: { components: number } }> }>(
      args('drift'),
    );
    expect(drift.code, drift.stderr).toBe(0);
    expect(drift.json.regions.map((x) => `${x.region} ${x.counts.components}`)).toEqual(['eu-west-1 1', 'us-east-1 1']);
    const cycles = await deployer(args('reconcile', '--once', '--json'));
    expect(cycles.code, cycles.stderr).toBe(0);
    expect(
      cycles.stdout
        .trim()
        .split('\n')
        .map((l) => `${(JSON.parse(l) as { region: string; status: string }).region} ${(JSON.parse(l) as { status: string }).status}`)
        .sort(),
    ).toEqual(['eu-west-1 clean', 'us-east-1 clean']);
    // The regions' events are told apart in the JSON stream.
    expect(
      r.stderr
        .split('\n')
        .filter((l) => l.includes('"type":"summary"'))
        .map((l) => (JSON.parse(l) as { region: string }).region)
        .sort(),
    ).toEqual(['eu-west-1', 'us-east-1']);
  });

  it('a region failing before its switch calls every switch off: the other region never serves the new version', async () => {
    editFile(path.join(dir, 'services/web/api.yaml'), 'GREETING: v1', 'GREETING: v2');
    const eu_ = watch(eu);
    const r = await deployerJson<Outcome>(args('apply', '--yes', '--var', 'brokenIn=us-east-1'));
    const seen = await eu_.stop();
    expect(r.code).toBe(1);
    const byRegion = Object.fromEntries(r.json.regions.map((x) => [x.region, x]));
    expect(byRegion['us-east-1']?.summary?.ok).toBe(false);
    // eu had v2 started and verified, held at the barrier, then called off: v1 kept every request.
    expect(byRegion['eu-west-1']?.summary?.ok).toBe(false);
    expect(JSON.stringify(byRegion['eu-west-1']?.summary)).toMatch(/called off in every region: region us-east-1/);
    expect(seen.statuses.filter((c) => c !== 200)).toEqual([]);
    expect(seen.greetings).toEqual(['v1']);
    expect(await answer(eu)).toEqual({ greeting: 'v1', region: 'eu-west-1' });
    expect(await answer(us)).toEqual({ greeting: 'v1', region: 'us-east-1' });
  });

  it('a region failing after the switch rolls every region back; the other region answers every request meanwhile', async () => {
    editFile(path.join(dir, 'services/web/api.yaml'), 'GREETING: v2', 'GREETING: v3');
    type Rollbacks = { rollbacks: Array<{ id: string; environment: string; reason: string }> };
    const before = new Set((await deployerJson<Rollbacks>(args('ledger', 'list-rollbacks'))).json.rollbacks.map((x) => x.id));
    const eu_ = watch(eu);
    const r = await deployerJson<Outcome>(args('apply', '--yes', '--var', 'smokeFailsIn=us-east-1'));
    const seen = await eu_.stop();
    expect(r.code).toBe(1);
    const byRegion = Object.fromEntries(r.json.regions.map((x) => [x.region, x]));
    expect(byRegion['us-east-1']?.summary?.ok).toBe(false);
    expect(byRegion['eu-west-1']).toMatchObject({ summary: { ok: true }, rolledBack: { ok: true } });
    // Both switched to v3 together (the smoke test runs after the switch), then went back.
    expect(r.json.switch).toMatchObject({ held: true, withinBound: true });
    expect(Object.keys(r.json.switch.switchedAt['web/api'] ?? {}).sort()).toEqual(['eu-west-1', 'us-east-1']);
    expect(seen.greetings).toContain('v3');
    expect(seen.statuses.filter((c) => c !== 200)).toEqual([]);
    expect(await answer(eu)).toEqual({ greeting: 'v1', region: 'eu-west-1' });
    expect(await answer(us)).toEqual({ greeting: 'v1', region: 'us-east-1' });
    const rollbacks = (await deployerJson<Rollbacks>(args('ledger', 'list-rollbacks'))).json.rollbacks.filter((x) => !before.has(x.id));
    expect(rollbacks.map((x) => x.environment).sort()).toEqual(['prod/eu-west-1', 'prod/us-east-1']);
    expect(rollbacks.find((x) => x.environment === 'prod/eu-west-1')?.reason).toMatch(/region us-east-1 failed/);
  });
});

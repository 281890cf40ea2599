/**
 * `deployer drift` through the real Pulumi engine on the quick start: an untouched stack reports
 * nothing (ten runs in a row, right after apply and after a restart); then things are changed
 * behind deployer's back, one after another, and each is found with its component, property
 * and severity: the env and port of the running supervisor, a bucket setting on disk, the YAML
 * edited without applying, ignore rules, the bucket directory deleted, the service's processes
 * killed, an apply killed midway (its pending operation, found while its lock is still held).
 * The steps share one applied stack (a Pulumi operation costs seconds), so they run in order.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stopLeftovers } from '../../src/engine/index.js';
import type { DriftReport } from '../../src/reconcile/drift.js';
import type { DriftFinding } from '../../src/reconcile/report.js';
import { isAlive } from '../../src/util/process.js';
import { deployer, deployerJson, spawnDeployer } from '../helpers/cli.js';
import { getJson } from '../helpers/http.js';
import {
  changeBucketSettings,
  changeInSupervisor,
  supervisorStatus,
  useAppliedQuickstart,
  type AppliedQuickstart,
} from '../helpers/quickstart-behind.js';
import { editFile, freePort } from '../helpers/testdir.js';

let qs: AppliedQuickstart;
let [dir, port, env] = ['', 0, {} as Record<string, string>];
useAppliedQuickstart((applied) => ({ dir, port, env } = qs = applied));
const args = (...a: string[]): string[] => qs.args(...a);
const apiDir = (): string => qs.apiDir;
const bucketDir = (): string => qs.bucketDir;

async function drift(...extra: string[]): Promise<{ code: number; report: DriftReport; findings: DriftFinding[] }> {
  const { code, json, stderr } = await deployerJson<DriftReport>(args('drift', ...extra), env);
  expect([0, 4], stderr).toContain(code);
  return { code, report: json, findings: json.components.flatMap((c) => c.findings) };
}

/** What the findings say, in short: component, kind, path, severity. */
const said = (findings: DriftFinding[]): string[] => findings.map((f) => `${f.component} ${f.kind} ${f.path || '-'} ${f.severity}`).sort();

describe('deployer drift on the local target', () => {
  let movedTo: number;

  it('an untouched stack reports nothing, ten runs in a row, and again after a restart', async () => {
    for (let i = 0; i < 10; i++) {
      const { code, report } = await drift();
      expect(code).toBe(0);
      expect(report.counts).toEqual({ components: 2, drifted: 0, findings: 0, critical: 0, ignored: 0, errors: 0 });
    }
    const restarted = await deployer(args('restart'), env);
    expect(restarted.code, restarted.stderr).toBe(0);
    const after = await deployer(args('drift'), env);
    expect(after.code, after.stdout).toBe(0);
    expect(after.stdout).toMatch(/No drift: every component is as configured and as deployed\./);
  });

  it('finds the env and port changed in the running supervisor', async () => {
    movedTo = await freePort();
    await changeInSupervisor(apiDir(), (spec) => {
      spec.env['GREETING'] = 'changed behind its back';
      spec.port = movedTo;
    });
    expect(await getJson(movedTo)).toMatchObject({ greeting: 'changed behind its back' });
    const { code, findings } = await drift();
    expect(code).toBe(4);
    expect(said(findings)).toEqual(['web/api resource env.GREETING warning', 'web/api resource port warning']);
    expect(findings.find((f) => f.path === 'env.GREETING')).toMatchObject({
      expected: 'hello from dev',
      recorded: 'hello from dev',
      actual: 'changed behind its back',
    });
    expect(findings.find((f) => f.path === 'port')).toMatchObject({ expected: port, recorded: port, actual: movedTo });
  });

  it('finds a bucket setting changed on disk, critical (a bucket holds data)', async () => {
    changeBucketSettings(bucketDir(), { versioning: false });
    const { findings } = await drift('--component', 'web/assets');
    expect(findings).toEqual([
      expect.objectContaining({
        component: 'web/assets',
        kind: 'resource',
        path: 'versioning',
        expected: true,
        recorded: true,
        actual: false,
        severity: 'critical',
      }),
    ]);
  });

  it('finds the YAML edited and not applied, beside what was changed behind its back', async () => {
    editFile(path.join(dir, 'services/web/api.yaml'), 'GREETING: hello from dev', 'GREETING: hello, edited');
    const { findings } = await drift();
    expect(said(findings)).toEqual([
      'web/api configuration spec.env.GREETING warning',
      'web/api resource env.GREETING warning',
      'web/api resource port warning',
      'web/assets resource versioning critical',
    ]);
    expect(findings.find((f) => f.kind === 'configuration')).toMatchObject({
      expected: 'hello, edited',
      recorded: 'hello from dev',
      actual: 'changed behind its back',
    });
    // What the engine keeps is untouched: the next plan still has exactly the YAML's change to make.
    const plan = await deployerJson<{ actions: Array<{ id: string; action: string }> }>(args('plan'), env);
    expect(plan.json.actions.filter((a) => a.action !== 'no-op')).toEqual([expect.objectContaining({ id: 'web/api', action: 'update' })]);
  });

  it('leaves out what the Stack ignores, and says how much; Markdown for a pull request', async () => {
    writeFileSync(
      path.join(dir, 'stack.yaml'),
      readFileSync(path.join(dir, 'stack.yaml'), 'utf8') +
        '  drift:\n    ignore:\n      - component: "web/*"\n        path: env.GREETING\n',
    );
    const { report, findings } = await drift();
    expect(said(findings)).toEqual([
      'web/api configuration spec.env.GREETING warning',
      'web/api resource port warning',
      'web/assets resource versioning critical',
    ]);
    expect(report.counts.ignored).toBe(1);
    const md = await deployer(args('drift', '--format', 'markdown'), env);
    expect(md.code).toBe(4);
    expect(md.stdout).toContain('### Drift of `quickstart` (dev)');
    expect(md.stdout).toContain(`| \`web/api\` | resource | \`port\` | \`${port}\` | \`${port}\` | \`${movedTo}\` | warning |`);
    expect(md.stdout).toMatch(/1 difference\(s\) left out by spec\.drift\.ignore/);
  });

  it('finds the bucket directory deleted: missing, critical', async () => {
    rmSync(bucketDir(), { recursive: true, force: true });
    const { findings } = await drift('--component', 'web/assets');
    expect(findings).toEqual([expect.objectContaining({ component: 'web/assets', kind: 'missing', path: '', severity: 'critical' })]);
  });

  it('finds the service killed: not running, critical', async () => {
    const status = supervisorStatus(apiDir());
    process.kill(-status.supervisorPid, 'SIGKILL');
    await expect.poll(() => isAlive(status.supervisorPid)).toBe(false);
    const { findings } = await drift('--component', 'web/api');
    expect(findings).toContainEqual(
      expect.objectContaining({
        component: 'web/api',
        kind: 'resource',
        path: 'running',
        recorded: true,
        actual: false,
        severity: 'critical',
      }),
    );
  });

  it('finds the operation an apply killed midway left pending, while that dead run still holds the lock', async () => {
    const apply = spawnDeployer(args('apply', '--yes'), env);
    await apply.waitFor('update pulumi-nodejs:dynamic/local:MicroService api', 120_000);
    const held = await deployerJson<{ locks: Array<{ metadata: { deployment_id: string } }> }>(args('lock', 'status'), env);
    apply.child.kill('SIGKILL');
    await apply.exit;
    // Its pulumi and provider live on without it: stopped, as the run taking over would.
    await stopLeftovers(held.json.locks[0]!.metadata.deployment_id);
    const { findings } = await drift('--component', 'web/api');
    expect(findings).toContainEqual(expect.objectContaining({ component: 'web/api', kind: 'pending', path: '' }));
    expect(findings.find((f) => f.kind === 'pending')!.message).toMatch(/an interrupted run left api pending \(updating\)/);
    // Still held by the dead run: drift took no lock and left it as it was.
    expect((await deployerJson<{ locks: unknown[] }>(args('lock', 'status'), env)).json.locks).toHaveLength(1);
  });

  it('refuses a component the stack does not have, and a concurrency that is no number, with exit 2', async () => {
    const unknown = await deployer(args('drift', '--component', 'web/nope'), env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no component web\/nope in stack quickstart \(dev\)/);
    const bad = await deployer(args('drift', '--concurrency', 'many'), env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid --concurrency "many": use a whole number of 1 or more/);
  });
});

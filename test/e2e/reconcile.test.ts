/**
 * `deployer reconcile` through the real Pulumi engine on the quick start: a cycle on a clean
 * stack; --auto-remediate bringing back what was changed behind deployer's back (env and port
 * in the supervisor, a bucket setting, the service killed) with a clean check after; a deleted
 * bucket reported, not recreated, without --allow-destructive; YAML not applied without
 * --apply-config-drift; a cycle skipped while a deploy holds the lock; one signed POST per
 * critical finding (a local receiver checks the signature, and fails the first try); two
 * reconcilers on one stack never remediating at the same time; SIGTERM ending the loop with 0.
 * The steps share one applied stack, so they run in order.
 */
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openLockManager, stackLockKey, whoAmI } from '../../src/lock/index.js';
import type { CycleResult } from '../../src/reconcile/loop.js';
import type { Status } from '../../src/targets/local/protocol.js';
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
const settingsFile = (): string => `${bucketDir()}.settings.json`;

/** One cycle, `--json`: its exit code and result. */
async function cycle(...extra: string[]): Promise<{ code: number; result: CycleResult; stderr: string }> {
  const r = await deployer(args('reconcile', '--once', '--json', ...extra), env);
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  let result: CycleResult;
  try {
    result = JSON.parse(line) as CycleResult;
  } catch {
    throw new Error(`not a cycle (exit ${r.code}):\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
  }
  return { code: r.code, result, stderr: r.stderr };
}

const status = (): Status => supervisorStatus(apiDir());

async function expectClean(): Promise<void> {
  const d = await deployerJson<{ counts: { findings: number } }>(args('drift'), env);
  expect(d.code, JSON.stringify(d.json)).toBe(0);
}

describe('deployer reconcile on the local target', () => {
  it('a cycle on a stack in sync is clean, exit 0', async () => {
    const { code, result } = await cycle('--auto-remediate');
    expect(code).toBe(0);
    expect(result).toMatchObject({ cycle: 1, status: 'clean', report: { counts: { findings: 0 } } });
  });

  it('--auto-remediate brings back the env and port changed in the supervisor and a bucket setting; the next check is clean', async () => {
    const elsewhere = await freePort();
    await changeInSupervisor(apiDir(), (spec) => {
      spec.env['GREETING'] = 'changed behind its back';
      spec.port = elsewhere;
    });
    changeBucketSettings(bucketDir(), { versioning: false });
    const { code, result } = await cycle('--auto-remediate');
    expect(code).toBe(0);
    expect(result.status).toBe('remediated');
    expect(result.remediation).toMatchObject({ components: ['web/api', 'web/assets'], left: [], ok: true });
    expect(result.report!.counts.findings).toBe(3);
    expect(await getJson(port)).toMatchObject({ greeting: 'hello from dev' });
    expect(JSON.parse(readFileSync(settingsFile(), 'utf8'))).toMatchObject({ versioning: true });
    // The cycle's drift record: its counts and findings, and what it brought back.
    const drifts = await deployerJson<{ deployments: Array<{ operation?: string; metadata: { drift?: Record<string, unknown> } }> }>(
      ['ledger', 'list-deployments', '-C', dir, '--from', result.startedAt],
      env,
    );
    const record = drifts.json.deployments.find((d) => d.operation === 'drift')!;
    expect(record.metadata.drift).toMatchObject({ cycle: 'remediated', findings: 3, critical: 1, remediated: ['web/api', 'web/assets'] });
    expect(record.metadata.drift!['report']).toHaveLength(3);
    await expectClean();
  });

  it('--auto-remediate starts a killed service again', async () => {
    const killed = status().supervisorPid;
    process.kill(-killed, 'SIGKILL');
    await expect.poll(() => isAlive(killed)).toBe(false);
    const { result } = await cycle('--auto-remediate');
    expect(result).toMatchObject({ status: 'remediated', remediation: { components: ['web/api'] } });
    expect(await getJson(port)).toMatchObject({ greeting: 'hello from dev' });
    await expectClean();
  });

  it('a deleted bucket is reported, not recreated, without --allow-destructive; with it, it is recreated', async () => {
    rmSync(bucketDir(), { recursive: true, force: true });
    const left = await cycle('--auto-remediate');
    expect(left.code).toBe(4);
    expect(left.result).toMatchObject({ status: 'drifted', remediation: { components: [] } });
    expect(left.result.remediation!.left).toEqual([
      {
        id: 'web/assets',
        reason: expect.stringMatching(/a S3 holds data: it is not deleted, replaced or recreated without --allow-destructive/),
      },
    ]);
    expect(existsSync(bucketDir())).toBe(false);
    const recreated = await cycle('--auto-remediate', '--allow-destructive');
    expect(recreated.result).toMatchObject({ status: 'remediated', remediation: { components: ['web/assets'] } });
    expect(existsSync(bucketDir())).toBe(true);
    await expectClean();
  });

  it('YAML not applied is reported, not applied, without --apply-config-drift', async () => {
    editFile(path.join(dir, 'services/web/api.yaml'), 'GREETING: hello from dev', 'GREETING: hello, reconciled');
    const reported = await cycle('--auto-remediate');
    expect(reported.code).toBe(4);
    expect(reported.result.remediation!.left).toEqual([
      { id: 'web/api', reason: expect.stringMatching(/configuration drift is reported, not applied/) },
    ]);
    expect(await getJson(port)).toMatchObject({ greeting: 'hello from dev' });
    const applied = await cycle('--auto-remediate', '--apply-config-drift');
    expect(applied.result).toMatchObject({ status: 'remediated', remediation: { components: ['web/api'] } });
    expect(await getJson(port)).toMatchObject({ greeting: 'hello, reconciled' });
    await expectClean();
  });

  it('skips the cycle while a deploy holds the stack lock', async () => {
    const locks = openLockManager('file://.deployer', dir);
    const held = await locks.acquire({
      lockKey: stackLockKey('quickstart', 'dev'),
      ttlMs: 120_000,
      lockedBy: whoAmI(),
      metadata: { operation: 'apply', pid: String(process.pid) },
    });
    try {
      const { code, result } = await cycle('--auto-remediate');
      expect(code).toBe(0);
      expect(result.status).toBe('skipped');
      expect(result.reason).toMatch(/a deploy is in progress: apply by \S+ holds stack:quickstart:env:dev/);
      // Recorded as skipped, as every cycle is: a drift record of the service in the ledger.
      const recorded = await deployerJson<{
        deployments: Array<{ operation?: string; type: string; status: string; metadata: { drift?: { cycle: string } } }>;
      }>(['ledger', 'list-deployments', '-C', dir, '--from', result.startedAt], env);
      expect(recorded.json.deployments).toEqual([
        expect.objectContaining({
          operation: 'drift',
          type: 'drift',
          status: 'success',
          metadata: expect.objectContaining({ drift: expect.objectContaining({ cycle: 'skipped' }) }),
        }),
      ]);
    } finally {
      await locks.release(held.lockKey, held.lockId);
    }
  });

  it('POSTs each critical finding once, signed, retrying a failed delivery', async () => {
    const received: Array<{ body: string; signature: string | undefined }> = [];
    let answered = 0;
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        // The first delivery fails: the alert is tried again.
        if (answered++ === 0) return void res.writeHead(503).end();
        received.push({ body, signature: req.headers['x-deployer-signature-256'] as string | undefined });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`;
    try {
      changeBucketSettings(bucketDir(), { versioning: false, publicAccess: true });
      const r = await deployer(args('reconcile', '--once', '--json', '--alert-webhook', url), {
        ...env,
        DEPLOYER_ALERT_SECRET: 'webhook-secret',
      });
      expect(r.code).toBe(4);
      const result = JSON.parse(r.stdout.trim()) as CycleResult;
      expect(result.alerts).toEqual({ sent: 2, failed: [] });
      expect(received.map((x) => (JSON.parse(x.body) as { finding: { path: string } }).finding.path).sort()).toEqual([
        'publicAccess',
        'versioning',
      ]);
      for (const x of received) {
        expect(x.signature).toBe(`sha256=${createHmac('sha256', 'webhook-secret').update(x.body).digest('hex')}`);
        expect(JSON.parse(x.body)).toMatchObject({
          event: 'drift.critical',
          stack: 'quickstart',
          environment: 'dev',
          finding: { severity: 'critical' },
        });
      }
    } finally {
      receiver.close();
    }
    expect((await cycle('--auto-remediate')).result.status).toBe('remediated');
  });

  it('two reconcilers on one stack never remediate at the same time', async () => {
    await changeInSupervisor(apiDir(), (spec) => {
      spec.env['GREETING'] = 'changed again';
    });
    const both = [0, 1].map(() => spawnDeployer(args('reconcile', '--once', '--json', '--auto-remediate'), env));
    const codes = await Promise.all(both.map((b) => b.exit));
    const results = both.map(
      (b) =>
        JSON.parse(
          b
            .output()
            .split('\n')
            .find((l) => l.startsWith('{"cycle"'))!,
        ) as CycleResult,
    );
    expect(codes, both.map((b) => b.output()).join('\n')).toEqual([0, 0]);
    expect(results.map((r) => r.status)).toContain('remediated');
    // Each remediation is a locked apply: their records in the ledger never overlap in time.
    const ledger = await deployerJson<{ deployments: Array<{ started: string; completed: string; parentId: string; operation?: string }> }>(
      ['ledger', 'list-deployments', '-C', dir, '--from', results.map((r) => r.startedAt).sort()[0]!],
      env,
    );
    const runs = ledger.json.deployments
      .filter((d) => d.operation === undefined)
      .map((d) => [Date.parse(d.started), Date.parse(d.completed)] as const)
      .sort((a, b) => a[0] - b[0]);
    expect(runs.length).toBe(results.filter((r) => r.status === 'remediated').length);
    for (let i = 1; i < runs.length; i++) expect(runs[i]![0]).toBeGreaterThanOrEqual(runs[i - 1]![1]);
    await expectClean();
  });

  it('SIGTERM between cycles ends the loop with exit 0', async () => {
    const loop = spawnDeployer(args('reconcile', '--every', '1h'), env);
    await loop.waitFor('cycle 1', 120_000);
    loop.child.kill('SIGTERM');
    expect(await loop.exit).toBe(0);
    expect(loop.output()).toMatch(/cycle 1 \([0-9.]+s\): No drift/);
  });
});

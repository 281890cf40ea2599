/**
 * The release pipeline as a team runs it, through the real Pulumi engine on the local target:
 * `deployer build` fills the cache (a second runner sharing the S3 backend never builds),
 * `deployer sign` signs the artifact, and one `deployer apply` builds, passes the gates
 * (security scan, Compliance rules, signature) and rolls out — or is refused by a gate with
 * nothing deployed, the verdicts in the run's JSON, its log and the ledger.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployer, deployerJson } from '../helpers/cli.js';
import { startS3, type S3Emulator } from '../helpers/emulators.js';
import { editFile, freePort, removeTestdirs, repoRoot, testdir } from '../helpers/testdir.js';

let dir: string;
let port: number;
let s3: S3Emulator | undefined;
const args = (...a: string[]): string[] => [...a, '-C', dir, '-e', 'dev'];
const report = (name: string): void =>
  copyFileSync(path.join(repoRoot, 'test/fixtures/scan-reports', name), path.join(dir, 'reports/scan.json'));
const serving = async (): Promise<{ artifact: string; release: number }> =>
  (await fetch(`http://127.0.0.1:${port}/`)).json() as Promise<{ artifact: string; release: number }>;

const auditFile = (): string => path.join(dir, 'audit.jsonl');
const trailRecords = (): Array<Record<string, unknown>> =>
  existsSync(auditFile())
    ? readFileSync(auditFile(), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];
const line = (x: Record<string, unknown>): string =>
  `${String(x['event_type'])} ${String(x['status'])}${x['component'] ? ` ${String(x['component'])}` : ''}`;
const trail = (): string[] => trailRecords().map(line);

interface Built {
  builds: Array<{ id: string; cache: 'hit' | 'miss'; digest: string }>;
}
interface Applied {
  ok: boolean;
  summary: {
    ok: boolean;
    components: Array<{
      id: string;
      result: string;
      reason?: string;
      artifact?: string;
      gates?: Array<{ gate: string; status: string; summary: string }>;
    }>;
  };
}

beforeAll(async () => {
  port = await freePort();
  dir = testdir('pipeline', { PORT_API: String(port) });
  expect((await deployer(['sign', '--new-key', path.join(dir, 'keys/release.pem')])).code).toBe(0);
  s3 = await startS3();
});
afterAll(async () => {
  await deployer(args('destroy', '--yes'));
  await s3?.close();
  removeTestdirs();
});

describe('the release pipeline', () => {
  it('the plan says what is built; deployer build builds once, then the cache hits', async () => {
    const planned = await deployer(args('plan'));
    expect(planned.stdout).toMatch(/web\/api\s+MicroService\s+0\s+new component; build \(miss: never built\)/);
    expect(planned.stdout).toContain('web/api  signature skipped: not built yet: checked once the build has run');
    expect(planned.stdout).toContain('web/api  policy passed: meets every Compliance rule');
    const first = await deployerJson<Built>(args('build'));
    expect(first.code).toBe(0);
    expect(first.json.builds).toEqual([
      expect.objectContaining({ id: 'web/api', cache: 'miss', digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) }),
    ]);
    const again = await deployerJson<Built>(args('build'));
    expect(again.json.builds[0]).toMatchObject({ cache: 'hit', digest: first.json.builds[0]!.digest });
    const hit = await deployer(args('plan'));
    expect(hit.stdout).toContain('new component; build (cache hit)');
    // The plan says what the gates would decide now: the built artifact is not signed yet.
    expect(hit.stdout).toContain('Release gates, as they would decide now');
    expect(hit.stdout).toMatch(/web\/api {2}security-scan passed: trivy report \(scan.json\): 1 medium; 0 at critical or above, 0 allowed/);
    expect(hit.stdout).toMatch(/web\/api {2}signature refused: .* is not signed, and this stack requires signed artifacts/);
  });

  it('an unsigned artifact is refused by the signature gate: exit 1, nothing runs, the verdicts in the JSON, the log and the ledger', async () => {
    const logFile = path.join(dir, 'run.log');
    const r = await deployerJson<Applied>(args('apply', '--yes', '--log-file', logFile, '--log-level', 'info', '--audit-log', auditFile()));
    expect(r.code).toBe(1);
    expect(trail()).toEqual([
      'lock-acquire ok',
      'plan made',
      'build cache-hit web/api',
      'gate passed web/api',
      'gate passed web/api',
      'gate refused web/api',
      'deploy failed web/api',
      'rollback started',
      'rollback deleted web/api',
      'rollback success',
      'apply failed',
      'lock-release ok',
    ]);
    const api = r.json.summary.components.find((c) => c.id === 'web/api')!;
    expect(api.result).toBe('failed');
    expect(api.reason).toContain('is not signed, and this stack requires signed artifacts');
    expect(api.gates?.map((g) => `${g.gate} ${g.status}`)).toEqual(['security-scan passed', 'policy passed', 'signature refused']);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    const logged = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged.filter((l) => l['event'] === 'gate').map((l) => `${String(l['gate'])} ${String(l['status'])}`)).toEqual([
      'security-scan passed',
      'policy passed',
      'signature refused',
    ]);
    const ledger = await deployerJson<{ deployments: Array<{ status: string; version: string; metadata: Record<string, unknown> }> }>(
      args('ledger', 'list-deployments'),
    );
    expect(ledger.json.deployments[0]).toMatchObject({
      // What the run changed was undone (rollback: auto), though the gate let nothing reach the engine.
      status: 'rolled-back',
      version: api.artifact,
      metadata: { gates: { 'web/api': expect.arrayContaining([expect.objectContaining({ gate: 'signature', status: 'refused' })]) } },
    });
  });

  it('a signature by a key that is not trusted is refused; signed with the trusted key, the artifact deploys and is what serves', async () => {
    const stranger = path.join(dir, 'stranger.pem');
    expect((await deployer(['sign', '--new-key', stranger])).code).toBe(0);
    expect((await deployer(args('sign', 'web/api', '--key', stranger))).code).toBe(0);
    const refused = await deployerJson<Applied>(args('apply', '--yes'));
    expect(refused.code).toBe(1);
    expect(refused.json.summary.components[0]!.reason).toMatch(/no signature of sha256:[0-9a-f]{64} verifies with a trusted key/);

    const signed = await deployer(args('sign', 'web/api', '--key', path.join(dir, 'keys/release.pem')));
    expect(signed.stdout).toMatch(/^Signed sha256:[0-9a-f]{64} with key [0-9a-f]{12}\.$/m);
    const applied = await deployerJson<Applied>(args('apply', '--yes', '--audit-log', auditFile()));
    expect(applied.code, JSON.stringify(applied.json.summary.components)).toBe(0);
    // The audit trail of the run: every action, in order, under one deployment id and correlation id.
    const records = trailRecords().slice(12); // after the refused run's 12 records
    expect(records.map(line)).toEqual([
      'lock-acquire ok',
      'plan made',
      'build cache-hit web/api',
      'gate passed web/api',
      'gate passed web/api',
      'gate passed web/api',
      'verify healthy web/api',
      'switch switched web/api',
      'deploy created web/api',
      'apply success',
      'lock-release ok',
    ]);
    expect(new Set(records.map((x) => x['deployment_id'])).size).toBe(1);
    expect(new Set(records.map((x) => x['correlation_id'])).size).toBe(1);
    const api = applied.json.summary.components[0]!;
    expect(api.gates?.map((g) => `${g.gate} ${g.status}`)).toEqual(['security-scan passed', 'policy passed', 'signature passed']);
    expect(await serving()).toEqual({ artifact: api.artifact, release: 1 });
    const state = await deployerJson<{ components: Record<string, { artifact?: { digest: string } }> }>(args('state', 'show'));
    expect(state.json.components['web/api']?.artifact?.digest).toBe(api.artifact);
  });

  it('a change whose scan finds critical vulnerabilities is refused: the previous artifact keeps serving', async () => {
    const before = await serving();
    editFile(path.join(dir, 'services/web/src/server.mjs'), 'release: 1', 'release: 2');
    report('trivy.json');
    const planned = await deployer(args('plan'));
    expect(planned.stdout).toContain('build inputs changed; build (miss: src/server.mjs changed)');
    const r = await deployerJson<Applied>(args('apply', '--yes'));
    expect(r.code).toBe(1);
    const api = r.json.summary.components[0]!;
    expect(api.reason).toContain('web/api: the security scan found 2 critical vulnerabilities (0 allowed)');
    expect(api.reason).toContain('critical CVE-2019-10744 in lodash@4.17.4 (fixed in 4.17.12)');
    expect(await serving()).toEqual(before);
  });

  it('two runners sharing an S3 backend: what one builds, the other finds in the cache', async () => {
    const stateUrl = await s3!.stateUrl('pipeline-builds');
    const runnerA = testdir('pipeline', { PORT_API: String(port) });
    const runnerB = testdir('pipeline', { PORT_API: String(port) });
    const on = (d: string, ...a: string[]): string[] => [...a, '-C', d, '-e', 'dev', '--state-url', stateUrl];
    // The key the stack trusts must exist for the stack to load.
    for (const r of [runnerA, runnerB]) expect((await deployer(['sign', '--new-key', path.join(r, 'keys/release.pem')])).code).toBe(0);
    const a = await deployerJson<Built>(on(runnerA, 'build'));
    expect(a.json.builds[0]?.cache).toBe('miss');
    expect((await deployer(on(runnerB, 'plan'))).stdout).toContain('build (cache hit)');
    const b = await deployerJson<Built>(on(runnerB, 'build'));
    expect(b.json.builds[0]).toMatchObject({ cache: 'hit', digest: a.json.builds[0]!.digest });
    expect(existsSync(path.join(runnerB, 'services/web/dist'))).toBe(false);
  });
});

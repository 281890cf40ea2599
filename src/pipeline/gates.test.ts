/** Release gates: each gives its verdict, and a refusal is a typed error naming what refused it. */
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../test/helpers/testdir.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { GateRefusedError, SecurityScanFailed } from '../errors.js';
import type { DesiredComponent } from '../model/desired.js';
import { MemoryBlobs } from '../state/memory.js';
import { BuildCache } from './cache.js';
import { PolicyGate, runGates, SecurityScanGate, SignatureGate, type GateSubject, type GateVerdict } from './gates.js';
import { signDigest } from './signing.js';

const tmp = useTempDirs('gates');
const reports = path.join(repoRoot, 'test/fixtures/scan-reports');
const DIGEST = `sha256:${'12'.repeat(32)}`;

function subject(baseDir = reports, artifact = true): GateSubject {
  const component = { id: 'web/api', kind: 'MicroService', baseDir, spec: {} } as unknown as DesiredComponent;
  return { component, resolvedSpec: {}, environment: 'prod', ...(artifact ? { artifact: { digest: DIGEST, context: baseDir } } : {}) };
}

describe('the security-scan gate', () => {
  it('refuses a Trivy report with critical findings: SecurityScanFailed lists them, worst first', async () => {
    const r = await new SecurityScanGate({ report: 'trivy.json' }).check(subject());
    expect(r.verdict).toMatchObject({ gate: 'security-scan', status: 'refused', counts: { critical: 2, high: 1, medium: 1 } });
    expect(r.refusal).toBeInstanceOf(SecurityScanFailed);
    const err = r.refusal as SecurityScanFailed;
    expect(err.code).toBe('GATE_REFUSED');
    expect(err.message).toBe('web/api: the security scan found 2 critical vulnerabilities (0 allowed)');
    expect(err.vulnerabilities.map((v) => v.id)).toEqual(['CVE-2019-10744', 'CVE-2021-44906']);
    expect(err.details[0]).toBe('critical CVE-2019-10744 in lodash@4.17.4 (fixed in 4.17.12)');
    expect(err.toJSON()).toMatchObject({ code: 'GATE_REFUSED', gate: 'security-scan', vulnerabilities: expect.any(Array) });
  });

  it('passes a report under the threshold, and counts from the severity asked', async () => {
    expect((await new SecurityScanGate({ report: 'trivy-clean.json' }).check(subject())).verdict.status).toBe('passed');
    expect((await new SecurityScanGate({ report: 'grype.json', threshold: 1 }).check(subject())).verdict.status).toBe('passed');
    const high = await new SecurityScanGate({ report: 'grype.json', severity: 'high', threshold: 1 }).check(subject());
    expect(high.refusal?.message).toBe('web/api: the security scan found 2 high or worse vulnerabilities (1 allowed)');
    const sarif = await new SecurityScanGate({ report: 'trivy.sarif', severity: 'high', threshold: 2 }).check(subject());
    expect(sarif.verdict.summary).toContain('sarif report (trivy.sarif): 1 critical, 2 high; 3 at high or above, 2 allowed');
  });

  it('runs a scanner command and reads its stdout; a missing report, a missing scanner or a report in no known format refuses', async () => {
    const dir = tmp();
    writeFileSync(
      path.join(dir, 'scan.mjs'),
      `import { readFileSync } from 'node:fs';\nprocess.stdout.write(readFileSync(${JSON.stringify(path.join(reports, 'grype.json'))}, 'utf8'));\n`,
    );
    const ran = await new SecurityScanGate({ command: [process.execPath, 'scan.mjs'] }).check(subject(dir));
    expect(ran.verdict).toMatchObject({ status: 'refused', counts: { critical: 1, high: 1 } });
    const missing = await new SecurityScanGate({ report: 'nope.json' }).check(subject(dir));
    expect(missing.refusal?.message).toMatch(/the security scan report .*nope.json does not exist/);
    const noScanner = await new SecurityScanGate({ command: ['no-such-scanner-here'] }).check(subject(dir));
    expect(noScanner.refusal?.message).toBe('web/api: the scanner no-such-scanner-here was not found');
    writeFileSync(path.join(dir, 'odd.json'), '{"findings": []}');
    const odd = await new SecurityScanGate({ report: 'odd.json' }).check(subject(dir));
    expect(odd.refusal?.message).toMatch(/neither SARIF 2.1.0, Trivy JSON nor Grype JSON/);
  });
});

describe('the signature gate', () => {
  const signer = generateKeyPairSync('ed25519');
  const stranger = generateKeyPairSync('ed25519');

  it('passes an artifact signed by a trusted key', async () => {
    const cache = new BuildCache(new MemoryBlobs(), 'builds/');
    await cache.putSignature(signDigest(DIGEST, signer.privateKey, 'release@ci'));
    const r = await new SignatureGate(cache, [signer.publicKey], true).check(subject());
    expect(r.verdict).toMatchObject({ status: 'passed', summary: expect.stringContaining('signed by release@ci') });
  });

  it('refuses an unsigned artifact when signatures are required, and skips it otherwise', async () => {
    const cache = new BuildCache(new MemoryBlobs(), 'builds/');
    const required = await new SignatureGate(cache, [signer.publicKey], true).check(subject());
    expect(required.refusal).toBeInstanceOf(GateRefusedError);
    expect(required.refusal?.message).toContain('is not signed, and this stack requires signed artifacts');
    expect(required.refusal?.details[0]).toBe(`Sign it with: deployer sign ${DIGEST} --key <private key file>`);
    expect((await new SignatureGate(cache, [], false).check(subject())).verdict.status).toBe('skipped');
    expect((await new SignatureGate(cache, [], true).check(subject(reports, false))).verdict.status).toBe('skipped');
  });

  it('refuses a signature by an untrusted key, and a signature whose bytes were changed, even when not required', async () => {
    const cache = new BuildCache(new MemoryBlobs(), 'builds/');
    await cache.putSignature(signDigest(DIGEST, stranger.privateKey, 'mallory@laptop'));
    const untrusted = await new SignatureGate(cache, [signer.publicKey], false).check(subject());
    expect(untrusted.refusal?.message).toBe(`web/api: no signature of ${DIGEST} verifies with a trusted key`);
    expect(untrusted.refusal?.details[0]).toMatch(/signature by mallory@laptop with key [0-9a-f]{12}: does not verify/);

    const tampered = new BuildCache(new MemoryBlobs(), 'builds/');
    const good = signDigest(DIGEST, signer.privateKey, 'release@ci');
    await tampered.putSignature({ ...good, signature: Buffer.from('x'.repeat(64)).toString('base64') });
    expect((await new SignatureGate(tampered, [signer.publicKey], false).check(subject())).verdict.status).toBe('refused');
  });
});

describe('running the gates', () => {
  it('every gate gives its verdict; the first refusal is thrown with the others in its details', async () => {
    const verdicts: GateVerdict[] = [];
    const policy = new PolicyGate(() => ['required-tags: tags is missing the required tag team']);
    const scan = new SecurityScanGate({ report: 'trivy.json' });
    const err = await runGates([scan, policy], subject(), (v) => verdicts.push(v)).catch((e: unknown) => e);
    expect(verdicts.map((v) => `${v.gate} ${v.status}`)).toEqual(['security-scan refused', 'policy refused']);
    expect(err).toBeInstanceOf(SecurityScanFailed);
    expect((err as SecurityScanFailed).details.at(-1)).toBe(
      'also refused by policy: web/api: 1 Compliance rule refused it as it is about to deploy',
    );
    const passed = await runGates([new PolicyGate(() => [])], subject(), () => undefined);
    expect(passed).toEqual([{ gate: 'policy', status: 'passed', summary: 'meets every Compliance rule' }]);
  });
});

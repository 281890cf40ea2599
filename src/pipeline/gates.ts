/**
 * Release gates: checks a component must pass just before it deploys. Each gate gives a
 * verdict (passed, refused, skipped and why); every gate runs, so a refused release shows all
 * its verdicts, and the first refusal's typed error (SecurityScanFailed, GateRefusedError) is
 * what fails the component. New gates implement `Gate`.
 */
import type { KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { GateRefusedError, SecurityScanFailed, type GateName } from '../errors.js';
import type { DesiredComponent } from '../model/desired.js';
import type { BuildCache } from './cache.js';
import { atLeast, detectFormat, parseReport, SEVERITY_ORDER, type ReportFormat, type Severity } from './scan-reports.js';
import { verifiedBy } from './signing.js';

export interface GateVerdict {
  gate: GateName;
  status: 'passed' | 'refused' | 'skipped';
  /** One line: what was checked and what it found. */
  summary: string;
  /** security-scan: findings by severity. */
  counts?: Partial<Record<Severity, number>>;
}

/** What a gate looks at. */
export interface GateSubject {
  component: DesiredComponent;
  /** The spec with its references resolved, as it is about to deploy. */
  resolvedSpec: Record<string, unknown>;
  environment: string;
  /** The artifact it deploys, when it builds one. */
  artifact?: { digest: string; context: string };
}

export interface Gate {
  readonly name: GateName;
  check(subject: GateSubject, signal?: AbortSignal): Promise<{ verdict: GateVerdict; refusal?: GateRefusedError }>;
}

/** `gates.securityScan` of a component (with the Stack's defaults). */
export interface ScanSettings {
  report?: string;
  command?: string[];
  format?: 'auto' | ReportFormat;
  severity?: Exclude<Severity, 'unknown'>;
  threshold?: number;
}

export class SecurityScanGate implements Gate {
  readonly name = 'security-scan' as const;
  constructor(private readonly settings: ScanSettings) {}

  async check(s: GateSubject, signal?: AbortSignal): Promise<{ verdict: GateVerdict; refusal?: GateRefusedError }> {
    const { severity = 'critical', threshold = 0 } = this.settings;
    const id = s.component.id;
    const read = await this.readReport(s, signal);
    if ('problem' in read) return refused(this.name, new GateRefusedError(this.name, `${id}: ${read.problem}`, read.details ?? []));
    const all = parseReport(read.report, read.format);
    const counts: Partial<Record<Severity, number>> = {};
    for (const v of all) counts[v.severity] = (counts[v.severity] ?? 0) + 1;
    const counted = all.filter((v) => atLeast(v.severity, severity));
    const shown =
      SEVERITY_ORDER.filter((k) => counts[k])
        .map((k) => `${counts[k]} ${k}`)
        .join(', ') || 'no findings';
    const summary = `${read.format} report (${read.from}): ${shown}; ${counted.length} at ${severity} or above, ${threshold} allowed`;
    if (counted.length > threshold) {
      const err = new SecurityScanFailed(id, counted, threshold, severity);
      return { verdict: { gate: this.name, status: 'refused', summary, counts }, refusal: err };
    }
    return { verdict: { gate: this.name, status: 'passed', summary, counts } };
  }

  private async readReport(
    s: GateSubject,
    signal?: AbortSignal,
  ): Promise<{ report: unknown; format: ReportFormat; from: string } | { problem: string; details?: string[] }> {
    let text: string;
    let from: string;
    if (this.settings.report !== undefined) {
      const file = path.resolve(s.component.baseDir, this.settings.report);
      from = path.basename(file);
      const body = await fs.readFile(file, 'utf8').catch(() => undefined);
      if (body === undefined)
        return {
          problem: `the security scan report ${file} does not exist`,
          details: ['The pipeline must produce it before the apply (gates.securityScan.report).'],
        };
      text = body;
    } else {
      const [program, ...args] = this.settings.command!;
      from = program!;
      // Loaded when a build (or a scanner) runs: a plan never needs it.
      const { execa } = await import('execa');
      const r = await execa(program!, args, {
        cwd: s.artifact?.context ?? s.component.baseDir,
        reject: false,
        stdin: 'ignore',
        timeout: 15 * 60_000,
        ...(signal ? { cancelSignal: signal } : {}),
      });
      if ((r as { code?: string }).code === 'ENOENT')
        return {
          problem: `the scanner ${program} was not found`,
          details: ['Install it, or point gates.securityScan.report at a report the pipeline produced.'],
        };
      text = String(r.stdout);
      if (r.exitCode !== 0 && !text.trim().startsWith('{')) {
        return {
          problem: `the scanner (${this.settings.command!.join(' ')}) exited with ${r.exitCode} and printed no report`,
          details: String(r.stderr).split('\n').slice(-10),
        };
      }
    }
    let report: unknown;
    try {
      report = JSON.parse(text);
    } catch {
      return { problem: `the security scan report from ${from} is not JSON` };
    }
    const format = this.settings.format && this.settings.format !== 'auto' ? this.settings.format : detectFormat(report);
    if (!format) return { problem: `the security scan report from ${from} is neither SARIF 2.1.0, Trivy JSON nor Grype JSON` };
    return { report, format, from };
  }
}

/** Checks a resolved component against the Compliance rules: `violations` returns the enforced ones' messages. */
export class PolicyGate implements Gate {
  readonly name = 'policy' as const;
  constructor(private readonly violations: (s: GateSubject) => string[]) {}

  check(s: GateSubject): Promise<{ verdict: GateVerdict; refusal?: GateRefusedError }> {
    const found = this.violations(s);
    if (found.length === 0)
      return Promise.resolve({ verdict: { gate: this.name, status: 'passed', summary: 'meets every Compliance rule' } });
    const err = new GateRefusedError(
      this.name,
      `${s.component.id}: ${found.length} Compliance rule${found.length > 1 ? 's' : ''} refused it as it is about to deploy`,
      found,
    );
    return Promise.resolve({ verdict: { gate: this.name, status: 'refused', summary: found.join('; ') }, refusal: err });
  }
}

export class SignatureGate implements Gate {
  readonly name = 'signature' as const;
  constructor(
    private readonly cache: BuildCache,
    private readonly trusted: KeyObject[],
    /** Refuse an artifact with no signature (requireSignedArtifacts, or gates.signature: true). */
    private readonly required: boolean,
  ) {}

  async check(s: GateSubject): Promise<{ verdict: GateVerdict; refusal?: GateRefusedError }> {
    if (!s.artifact) return { verdict: { gate: this.name, status: 'skipped', summary: 'builds no artifact to verify' } };
    const { digest } = s.artifact;
    const signatures = await this.cache.signatures(digest);
    if (signatures.length === 0) {
      if (!this.required) return { verdict: { gate: this.name, status: 'skipped', summary: 'not signed (not required)' } };
      return refused(
        this.name,
        new GateRefusedError(
          this.name,
          `${s.component.id}: the artifact ${digest} is not signed, and this stack requires signed artifacts`,
          [`Sign it with: deployer sign ${digest} --key <private key file>`],
        ),
      );
    }
    const good = signatures.find((sig) => verifiedBy(sig, digest, this.trusted));
    if (good)
      return {
        verdict: { gate: this.name, status: 'passed', summary: `signed by ${good.signedBy} (key ${good.keyFingerprint.slice(0, 12)})` },
      };
    return refused(
      this.name,
      new GateRefusedError(this.name, `${s.component.id}: no signature of ${digest} verifies with a trusted key`, [
        ...signatures.map(
          (sig) =>
            `signature by ${sig.signedBy} with key ${sig.keyFingerprint.slice(0, 12)}: ${this.trusted.length === 0 ? 'no trusted keys are configured' : 'does not verify'}`,
        ),
        "Trusted keys are the Stack's spec.pipeline.trustedKeys.",
      ]),
    );
  }
}

function refused(gate: GateName, refusal: GateRefusedError): { verdict: GateVerdict; refusal: GateRefusedError } {
  return { verdict: { gate, status: 'refused', summary: refusal.message }, refusal };
}

/** Runs every gate, tells each verdict, then throws the first refusal (the others in its details). */
export async function runGates(
  gates: Gate[],
  subject: GateSubject,
  onVerdict: (v: GateVerdict) => void,
  signal?: AbortSignal,
): Promise<GateVerdict[]> {
  const verdicts: GateVerdict[] = [];
  const refusals: GateRefusedError[] = [];
  for (const g of gates) {
    const { verdict, refusal } = await g.check(subject, signal);
    verdicts.push(verdict);
    onVerdict(verdict);
    if (refusal) refusals.push(refusal);
  }
  if (refusals.length > 0) {
    const [first, ...more] = refusals;
    first!.details.push(...more.map((r) => `also refused by ${r.gate}: ${r.message}`));
    throw first!;
  }
  return verdicts;
}

/**
 * Scanner reports read into one list of findings: SARIF 2.1.0 (what most scanners and GitHub
 * code scanning speak), Trivy's JSON (`trivy ... --format json`) and Grype's JSON (`grype -o
 * json`). Severities are normalised to critical/high/medium/low/unknown; SARIF's come from a
 * rule's `security-severity` score (GitHub's bands: 9.0 critical, 7.0 high, 4.0 medium) or,
 * without one, from the result's level.
 */
import type { Vulnerability } from '../errors.js';

export type ReportFormat = 'sarif' | 'trivy' | 'grype';
export type Severity = Vulnerability['severity'];

/** Most severe first. */
export const SEVERITY_ORDER: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'unknown'];

/** The format a parsed report is in, or undefined when it is none of the three. */
export function detectFormat(report: unknown): ReportFormat | undefined {
  if (!isObject(report)) return undefined;
  if (
    Array.isArray(report['runs']) &&
    (String(report['version'] ?? '').startsWith('2.1') || String(report['$schema'] ?? '').includes('sarif'))
  )
    return 'sarif';
  if ('SchemaVersion' in report || ('ArtifactName' in report && 'Results' in report)) return 'trivy';
  if (Array.isArray(report['matches'])) return 'grype';
  return undefined;
}

/** The findings of `report`, worst first. */
export function parseReport(report: unknown, format: ReportFormat): Vulnerability[] {
  const found = format === 'sarif' ? fromSarif(report) : format === 'trivy' ? fromTrivy(report) : fromGrype(report);
  return found.sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || a.id.localeCompare(b.id));
}

/** Whether `s` is at least as severe as `floor`. */
export function atLeast(s: Severity, floor: Severity): boolean {
  return SEVERITY_ORDER.indexOf(s) <= SEVERITY_ORDER.indexOf(floor);
}

function normal(s: unknown): Severity {
  const v = String(s ?? '').toLowerCase();
  return v === 'critical' || v === 'high' || v === 'medium' || v === 'low' ? v : v === 'negligible' ? 'low' : 'unknown';
}

function fromTrivy(report: unknown): Vulnerability[] {
  const results = (isObject(report) && Array.isArray(report['Results']) ? report['Results'] : []) as Array<Record<string, unknown>>;
  return results.flatMap((r) =>
    ((r['Vulnerabilities'] ?? []) as Array<Record<string, unknown>>).map((v) => ({
      id: String(v['VulnerabilityID'] ?? 'unknown'),
      severity: normal(v['Severity']),
      target: `${String(v['PkgName'] ?? r['Target'] ?? '?')}${v['InstalledVersion'] ? `@${String(v['InstalledVersion'])}` : ''}`,
      ...(v['Title'] ? { title: String(v['Title']) } : {}),
      ...(v['FixedVersion'] ? { fixedIn: String(v['FixedVersion']) } : {}),
    })),
  );
}

function fromGrype(report: unknown): Vulnerability[] {
  const matches = (isObject(report) ? report['matches'] : []) as Array<Record<string, Record<string, unknown>>>;
  return matches.map((m) => {
    const v = m['vulnerability'] ?? {};
    const a = m['artifact'] ?? {};
    const fixed = ((v['fix'] as { versions?: string[] } | undefined)?.versions ?? [])[0];
    return {
      id: String(v['id'] ?? 'unknown'),
      severity: normal(v['severity']),
      target: `${String(a['name'] ?? '?')}${a['version'] ? `@${String(a['version'])}` : ''}`,
      ...(v['description'] ? { title: String(v['description']).split('\n')[0]! } : {}),
      ...(fixed ? { fixedIn: fixed } : {}),
    };
  });
}

function fromSarif(report: unknown): Vulnerability[] {
  const runs = (isObject(report) ? report['runs'] : []) as Array<Record<string, unknown>>;
  return runs.flatMap((run) => {
    const driver = ((run['tool'] as Record<string, unknown> | undefined)?.['driver'] ?? {}) as Record<string, unknown>;
    const rules = new Map(((driver['rules'] ?? []) as Array<Record<string, unknown>>).map((r) => [String(r['id']), r]));
    return ((run['results'] ?? []) as Array<Record<string, unknown>>).map((res) => {
      const rule = rules.get(String(res['ruleId'])) ?? {};
      const score = Number(
        (res['properties'] as Record<string, unknown> | undefined)?.['security-severity'] ??
          (rule['properties'] as Record<string, unknown> | undefined)?.['security-severity'],
      );
      const location = ((res['locations'] ?? []) as Array<Record<string, Record<string, Record<string, unknown>>>>)[0];
      const text =
        (res['message'] as { text?: string } | undefined)?.text ?? (rule['shortDescription'] as { text?: string } | undefined)?.text;
      return {
        id: String(res['ruleId'] ?? 'unknown'),
        severity: Number.isFinite(score)
          ? bandOf(score)
          : // SARIF's default level is warning.
            levelSeverity(res['level'] ?? (rule['defaultConfiguration'] as { level?: unknown } | undefined)?.level ?? 'warning'),
        target: String(location?.['physicalLocation']?.['artifactLocation']?.['uri'] ?? driver['name'] ?? '?'),
        ...(text ? { title: text.split('\n')[0]! } : {}),
      };
    });
  });
}

function bandOf(score: number): Severity {
  return score >= 9 ? 'critical' : score >= 7 ? 'high' : score >= 4 ? 'medium' : score > 0 ? 'low' : 'unknown';
}

function levelSeverity(level: unknown): Severity {
  return level === 'error' ? 'high' : level === 'warning' ? 'medium' : level === 'note' ? 'low' : 'unknown';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

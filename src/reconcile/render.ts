/** A drift report for people: a table for the terminal, Markdown for a pull-request comment. Pure. */
import type { ComponentDrift, DriftReport } from './drift.js';
import type { DriftFinding } from './report.js';

/** A value as one cell: JSON, cut short when long; `-` for nothing. */
function cell(v: unknown, max = 40): string {
  if (v === undefined) return '-';
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const row = (f: DriftFinding): string[] => [
  f.component,
  f.kind,
  f.path || '-',
  cell(f.expected),
  cell(f.recorded),
  cell(f.actual),
  f.severity,
  f.message,
];
const HEADER = ['COMPONENT', 'DRIFT', 'PROPERTY', 'EXPECTED', 'RECORDED', 'ACTUAL', 'SEVERITY', 'WHAT'];

function headline(r: DriftReport): string {
  const took = `${(r.durationMs / 1000).toFixed(1)}s`;
  return `Drift of stack ${r.stack}, environment ${r.environment} (state serial ${r.serial}): ${r.counts.components} component(s) checked in ${took}, ${r.concurrency} at a time`;
}

/** The last line: what was found, in counts. */
export function driftSummaryLine(r: DriftReport): string {
  const c = r.counts;
  const ignored = c.ignored > 0 ? `; ${c.ignored} difference(s) left out by spec.drift.ignore` : '';
  const errors = c.errors > 0 ? `; ${c.errors} component(s) could not be checked` : '';
  if (c.findings === 0 && c.errors === 0) return `No drift: every component is as configured and as deployed${ignored}.`;
  return `Drift: ${c.findings} finding(s) (${c.critical} critical) in ${c.drifted} component(s)${errors}${ignored}.`;
}

const errorsOf = (r: DriftReport): ComponentDrift[] => r.components.filter((c) => c.status === 'error');

export function renderDriftTable(r: DriftReport): string {
  const body = r.components.flatMap((c) => c.findings.map(row));
  const lines = [headline(r), ''];
  if (body.length > 0) {
    const widths = HEADER.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
    const fmt = (cells: string[]): string =>
      cells
        .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd();
    lines.push(fmt(HEADER), ...body.map(fmt), '');
  }
  for (const c of errorsOf(r)) lines.push(`${c.id}: could not be checked: ${c.error}`);
  if (errorsOf(r).length > 0) lines.push('');
  lines.push(driftSummaryLine(r));
  return lines.join('\n');
}

/** A Markdown table cell: pipes and line breaks would end the cell. */
const md = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const code = (v: unknown): string => (v === undefined ? '–' : `\`${md(cell(v, 60)).replace(/`/g, "'")}\``);

export function renderDriftMarkdown(r: DriftReport): string {
  const lines = [`### Drift of \`${r.stack}\` (${r.environment})`, '', driftSummaryLine(r), ''];
  const findings = r.components.flatMap((c) => c.findings);
  if (findings.length > 0) {
    lines.push('| Component | Drift | Property | Expected | Recorded | Actual | Severity | What |', '|---|---|---|---|---|---|---|---|');
    for (const f of findings) {
      const severity = f.severity === 'critical' ? '**critical**' : f.severity;
      lines.push(
        `| \`${md(f.component)}\` | ${f.kind} | ${f.path ? `\`${md(f.path)}\`` : '–'} | ${code(f.expected)} | ${code(f.recorded)} | ${code(f.actual)} | ${severity} | ${md(f.message)} |`,
      );
    }
    lines.push('');
  }
  for (const c of errorsOf(r)) lines.push(`- \`${md(c.id)}\` could not be checked: ${md(c.error ?? '')}`);
  lines.push(`<sub>${r.counts.components} component(s) checked at ${r.checkedAt} against state serial ${r.serial}.</sub>`, '');
  return lines.join('\n');
}

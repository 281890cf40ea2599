/**
 * `deployer ledger export`: the ledger's records as JSON (what `ledger import` reads back), CSV
 * (RFC 4180, one row per record), an org-mode report (seed 001) or S-expressions (alists, as
 * seed 001's Guile ledger wrote them). Pure and deterministic: records oldest first, fields in a
 * fixed order, no time of export, so the same ledger exports to the same bytes (golden files).
 * Redacted (redact.ts) unless the caller says otherwise.
 */
import { redactText, redactValue } from './redact.js';
import type { DeploymentEvent, RollbackEvent } from './store.js';

export type ExportFormat = 'json' | 'csv' | 'org' | 'sexp';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['json', 'csv', 'org', 'sexp'];

/** What a JSON export says it is: `ledger import` refuses anything else. */
export const EXPORT_KIND = 'deployer-ledger';
export const EXPORT_VERSION = 1;

export interface LedgerRecords {
  deployments: DeploymentEvent[];
  rollbacks: RollbackEvent[];
}

/** The document of a JSON export. */
export interface LedgerExport extends LedgerRecords {
  format: typeof EXPORT_KIND;
  version: typeof EXPORT_VERSION;
}

/** `records` in `format`; redacted unless `redact` is false. */
export function exportLedger(records: LedgerRecords, format: ExportFormat, options: { redact?: boolean } = {}): string {
  const ordered = inOrder(records, options.redact ?? true);
  switch (format) {
    case 'json':
      return JSON.stringify({ format: EXPORT_KIND, version: EXPORT_VERSION, ...ordered } satisfies LedgerExport, null, 2) + '\n';
    case 'csv':
      return toCsv(ordered);
    case 'org':
      return toOrg(ordered);
    case 'sexp':
      return toSexp(ordered);
  }
}

/** Oldest first (by start, or time, then id), each record's fields in one order, redacted if asked. */
function inOrder(records: LedgerRecords, redact: boolean): LedgerRecords {
  const byTime =
    <T extends { id: string }>(time: (r: T) => string) =>
    (a: T, b: T) =>
      time(a) < time(b) ? -1 : time(a) > time(b) ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  const text = (s: string): string => (redact ? redactText(s) : s);
  const deployments = [...records.deployments].sort(byTime((d) => d.started)).map((d): DeploymentEvent => ({
    id: d.id,
    stack: d.stack,
    service: d.service,
    version: d.version,
    environment: d.environment,
    type: d.type,
    started: d.started,
    completed: d.completed,
    status: d.status,
    initiator: text(d.initiator),
    metadata: (redact ? redactValue(d.metadata) : d.metadata) as Record<string, unknown>,
    parentId: d.parentId,
    ...(d.operation ? { operation: d.operation } : {}),
  }));
  const rollbacks = [...records.rollbacks].sort(byTime((r) => r.at)).map((r): RollbackEvent => ({
    id: r.id,
    stack: r.stack,
    service: r.service,
    environment: r.environment,
    fromVersion: r.fromVersion,
    toVersion: r.toVersion,
    reason: text(r.reason),
    at: r.at,
    ...(r.deploymentId ? { deploymentId: r.deploymentId } : {}),
  }));
  return { deployments, rollbacks };
}

/** The columns of a CSV export: a deployment leaves the rollback's blank and the other way round. */
export const CSV_COLUMNS = [
  'kind',
  'id',
  'stack',
  'service',
  'environment',
  'version',
  'type',
  'status',
  'started',
  'completed',
  'initiator',
  'parent_id',
  'metadata',
  'from_version',
  'to_version',
  'reason',
  'at',
  'deployment_id',
  'operation',
] as const;

/** RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled; lines end in CRLF. */
export function csv(header: readonly string[], rows: readonly string[][]): string {
  const field = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [header, ...rows].map((r) => r.map(field).join(',') + '\r\n').join('');
}

function toCsv({ deployments, rollbacks }: LedgerRecords): string {
  const row = (cells: Partial<Record<(typeof CSV_COLUMNS)[number], string>>): string[] => CSV_COLUMNS.map((c) => cells[c] ?? '');
  return csv(CSV_COLUMNS, [
    ...deployments.map((d) =>
      row({
        kind: 'deployment',
        ...d,
        completed: d.completed ?? '',
        parent_id: d.parentId ?? '',
        metadata: JSON.stringify(d.metadata),
        operation: d.operation ?? '',
      }),
    ),
    ...rollbacks.map((r) =>
      row({ kind: 'rollback', ...r, from_version: r.fromVersion, to_version: r.toVersion, deployment_id: r.deploymentId ?? '' }),
    ),
  ]);
}

/** An org table, its columns padded; `|` in a cell is written as org's \vert{} entity. */
function orgTable(header: readonly string[], rows: readonly string[][]): string {
  const cells = [header, ...rows].map((r) => r.map((c) => c.replace(/\|/g, '\\vert{}').replace(/[\r\n]+/g, ' ')));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('+')}|`;
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n') + '\n';
}

function toOrg({ deployments, rollbacks }: LedgerRecords): string {
  return [
    '#+TITLE: Deployment ledger',
    `#+PROPERTY: format ${EXPORT_KIND} ${EXPORT_VERSION}`,
    '',
    `* Deployments (${deployments.length})`,
    orgTable(
      ['started', 'completed', 'stack', 'environment', 'service', 'version', 'type', 'status', 'initiator', 'id'],
      deployments.map((d) => [
        d.started,
        d.completed ?? '',
        d.stack,
        d.environment,
        d.service,
        d.version,
        d.type,
        d.status,
        d.initiator,
        d.id,
      ]),
    ).trimEnd(),
    '',
    `* Rollbacks (${rollbacks.length})`,
    orgTable(
      ['at', 'stack', 'environment', 'service', 'from', 'to', 'reason', 'undid', 'id'],
      rollbacks.map((r) => [r.at, r.stack, r.environment, r.service, r.fromVersion, r.toVersion, r.reason, r.deploymentId ?? '', r.id]),
    ).trimEnd(),
    '',
  ].join('\n');
}

/** A value as Scheme data: strings quoted, null #f, booleans #t/#f, arrays vectors, objects alists of string keys. */
export function sexp(value: unknown): string {
  if (value === null || value === undefined || value === false) return '#f';
  if (value === true) return '#t';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '#f';
  if (typeof value === 'string') return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  if (Array.isArray(value)) return `#(${value.map(sexp).join(' ')})`;
  const entries = Object.entries(value as Record<string, unknown>);
  return `(${entries.map(([k, v]) => `(${sexp(k)} . ${sexp(v)})`).join(' ')})`;
}

/** A record as an alist of symbols (kebab-case field names). */
function record(tag: string, fields: Record<string, unknown>): string {
  const kebab = (k: string): string => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return `  (${tag}\n${Object.entries(fields)
    .map(([k, v]) => `   (${kebab(k)} . ${sexp(v)})`)
    .join('\n')})`;
}

function toSexp({ deployments, rollbacks }: LedgerRecords): string {
  const list = (name: string, items: string[]): string => ` (${name}${items.length ? '\n' + items.join('\n') : ''})`;
  return [
    `;; ${EXPORT_KIND} ${EXPORT_VERSION}: deployments and rollbacks, oldest first`,
    `(${EXPORT_KIND}`,
    ` (version . ${EXPORT_VERSION})`,
    list(
      'deployments',
      deployments.map((d) => record('deployment', { ...d })),
    ),
    list(
      'rollbacks',
      rollbacks.map((r) => record('rollback', { ...r })),
    ) + ')',
    '',
  ].join('\n');
}

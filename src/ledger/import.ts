/**
 * `deployer ledger import <file>`: a JSON export (export.ts), or a CSV or S-expression one, read back into
 * records for `LedgerStore.recordMany`. Every record is checked as `record-deployment` checks
 * its flags (known type and status, ISO 8601 times with a zone, completed not before started);
 * each problem names the file and the record (`deployments[3].status`, or the CSV line), and a
 * file with any problem imports nothing. Pure: the caller reads the file and writes the batch.
 */
import { InvalidInputError } from '../errors.js';
import { UNFINISHED } from './external.js';
import { sexpExportAsJson } from './sexp.js';
import { CSV_COLUMNS, EXPORT_KIND, EXPORT_VERSION } from './export.js';
import { DEPLOYMENT_STATUSES, DEPLOYMENT_TYPES, DRIFT_TYPE, type DeploymentEvent, type LedgerBatch, type RollbackEvent } from './store.js';

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const MOST_PROBLEMS = 20;

/** Checks one record's fields, collecting problems under `where`. */
class RecordReader {
  constructor(
    private readonly raw: Record<string, unknown>,
    private readonly where: string,
    private readonly problems: string[],
    private readonly types: readonly string[] = DEPLOYMENT_TYPES,
  ) {}

  private say(field: string, message: string): void {
    this.problems.push(`${this.where}.${field}: ${message}`);
  }

  text(field: string, optional = false): string {
    const v = this.raw[field];
    if (typeof v === 'string' && v !== '') return v;
    if (optional && (v === undefined || v === null || v === '')) return '';
    this.say(field, v === undefined || v === '' ? 'is missing' : `${JSON.stringify(v)} is not a string`);
    return '';
  }

  time(field: string, optional = false): string | null {
    const v = this.text(field, optional);
    if (optional && v === '') return null;
    if (v === '') return '';
    const ms = ISO_8601.test(v) ? Date.parse(v) : Number.NaN;
    if (Number.isNaN(ms)) {
      this.say(field, `${JSON.stringify(v)} is not an ISO 8601 time with a zone`);
      return '';
    }
    return new Date(ms).toISOString();
  }

  oneOf<T extends string>(field: string, allowed: readonly T[]): T {
    const v = this.text(field);
    if (v !== '' && !(allowed as readonly string[]).includes(v))
      this.say(field, `${JSON.stringify(v)} is not one of ${allowed.join(', ')}`);
    return v as T;
  }

  object(field: string): Record<string, unknown> {
    const v = this.raw[field] ?? {};
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    this.say(field, 'is not an object');
    return {};
  }

  deployment(): DeploymentEvent {
    const operation = this.operation();
    // A drift record (a reconcile cycle) has the drift type, which no team registers.
    const types = operation.operation === 'drift' ? [DRIFT_TYPE] : this.types;
    const d: DeploymentEvent = {
      id: this.text('id'),
      // Deployments and rollbacks recorded by other tools have no stack.
      stack: this.text('stack', true),
      service: this.text('service'),
      version: this.text('version'),
      environment: this.text('environment'),
      type: this.oneOf('type', types),
      started: this.time('started') ?? '',
      completed: this.time('completed', true),
      status: this.oneOf('status', DEPLOYMENT_STATUSES),
      initiator: this.text('initiator'),
      metadata: this.object('metadata'),
      parentId: this.text('parentId', true) || null,
      ...operation,
    };
    if (d.completed && d.started && d.completed < d.started) this.say('completed', `${d.completed} is before started ${d.started}`);
    if (!UNFINISHED.has(d.status) && d.completed === null) this.say('completed', `is missing, and status is ${d.status}`);
    return d;
  }

  /** A record's `operation`: absent (a deployment), destroy, restart, drift, stop or start. */
  operation(): Pick<DeploymentEvent, 'operation'> {
    const v = this.raw['operation'];
    if (v === undefined || v === null || v === '' || v === 'deploy') return {};
    if (v === 'destroy' || v === 'restart' || v === 'drift' || v === 'stop' || v === 'start') return { operation: v };
    this.say('operation', `${JSON.stringify(v)} is not one of deploy, destroy, restart, drift, stop, start`);
    return {};
  }

  rollback(): RollbackEvent {
    return {
      id: this.text('id'),
      // Deployments and rollbacks recorded by other tools have no stack.
      stack: this.text('stack', true),
      service: this.text('service'),
      environment: this.text('environment'),
      fromVersion: this.text('fromVersion'),
      toVersion: this.text('toVersion'),
      reason: this.text('reason'),
      at: this.time('at') ?? '',
      ...(this.text('deploymentId', true) ? { deploymentId: this.text('deploymentId', true) } : {}),
    };
  }
}

function refuse(file: string, problems: string[]): never {
  const shown = problems.slice(0, MOST_PROBLEMS).map((p) => `${file}: ${p}`);
  if (problems.length > MOST_PROBLEMS) shown.push(`... and ${problems.length - MOST_PROBLEMS} more`);
  throw new InvalidInputError(`${file} cannot be imported: ${problems.length} problem(s)`, [...shown, 'Nothing was imported.']);
}

const asRecord = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** The records of a JSON export, checked; `file` names it in every problem. */
export function parseJsonExport(text: string, file: string, types: readonly string[] = DEPLOYMENT_TYPES): LedgerBatch {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    refuse(file, [`is not JSON: ${(err as Error).message}`]);
  }
  return checkExport(doc, file, types);
}

/** The records of an export's document (JSON, or a sexp export read as JSON), checked. */
function checkExport(doc: unknown, file: string, types: readonly string[]): LedgerBatch {
  const top = asRecord(doc);
  if (top['format'] !== EXPORT_KIND || top['version'] !== EXPORT_VERSION) {
    refuse(file, [
      `is not a deployer ledger export: it must say "format": "${EXPORT_KIND}", "version": ${EXPORT_VERSION} (\`deployer ledger export --format json\` writes one)`,
    ]);
  }
  const problems: string[] = [];
  const list = (key: string): unknown[] => {
    const v = top[key] ?? [];
    if (Array.isArray(v)) return v;
    problems.push(`${key}: is not a list`);
    return [];
  };
  const deployments = list('deployments').map((raw, i) =>
    new RecordReader(asRecord(raw), `deployments[${i}]`, problems, types).deployment(),
  );
  const rollbacks = list('rollbacks').map((raw, i) => new RecordReader(asRecord(raw), `rollbacks[${i}]`, problems).rollback());
  if (problems.length > 0) refuse(file, problems);
  return { deployments, rollbacks };
}

/** RFC 4180 records (quoted fields, doubled quotes, CRLF or LF line ends), with the line each starts on. */
export function parseCsv(text: string): Array<{ line: number; fields: string[] }> {
  const rows: Array<{ line: number; fields: string[] }> = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  const endRecord = (): void => {
    rows.push({ line: start, fields: [...fields, field] });
    fields = [];
    field = '';
    start = ++line;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '\n') line++;
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') field += text[++i];
      else quoted = false;
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
    } else {
      field += c;
    }
  }
  if (field !== '' || fields.length > 0) rows.push({ line: start, fields: [...fields, field] });
  return rows;
}

/** The records of a CSV export (export.ts's columns, in any order), checked; problems name the line. */
export function parseCsvExport(text: string, file: string, types: readonly string[] = DEPLOYMENT_TYPES): LedgerBatch {
  const [header, ...rows] = parseCsv(text);
  const names = header?.fields ?? [];
  // deployment_id and operation came to format 1 later: an export without those columns reads as before.
  const missing = CSV_COLUMNS.filter((c) => c !== 'deployment_id' && c !== 'operation' && !names.includes(c));
  if (missing.length > 0) refuse(file, [`line 1: is not a deployer ledger CSV export: no column ${missing.join(', ')}`]);
  const problems: string[] = [];
  const batch: { deployments: DeploymentEvent[]; rollbacks: RollbackEvent[] } = { deployments: [], rollbacks: [] };
  for (const { line, fields } of rows) {
    const cell = (c: string): string => fields[names.indexOf(c)] ?? '';
    const where = `line ${line}`;
    if (cell('kind') === 'deployment') {
      let metadata: unknown = {};
      try {
        metadata = JSON.parse(cell('metadata') || '{}');
      } catch {
        problems.push(`${where}.metadata: is not JSON`);
      }
      const raw = { ...Object.fromEntries(names.map((n, i) => [n, fields[i]])), parentId: cell('parent_id'), metadata };
      batch.deployments.push(new RecordReader(raw, where, problems, types).deployment());
    } else if (cell('kind') === 'rollback') {
      const raw = {
        ...Object.fromEntries(names.map((n, i) => [n, fields[i]])),
        fromVersion: cell('from_version'),
        toVersion: cell('to_version'),
        deploymentId: cell('deployment_id'),
      };
      batch.rollbacks.push(new RecordReader(raw, where, problems).rollback());
    } else problems.push(`${where}.kind: ${JSON.stringify(cell('kind'))} is not deployment or rollback`);
  }
  if (problems.length > 0) refuse(file, problems);
  return batch;
}

/** A file's records by its content: CSV when it starts with export.ts's header, S-expressions when with `(deployer-ledger` (after comments), else JSON. */
export function parseExport(text: string, file: string, types: readonly string[] = DEPLOYMENT_TYPES): LedgerBatch {
  if (text.startsWith('kind,')) return parseCsvExport(text, file, types);
  if (/^(\s*;[^\n]*\n)*\s*\(deployer-ledger\b/.test(text)) return checkExport(sexpExportAsJson(text, file), file, types);
  return parseJsonExport(text, file, types);
}

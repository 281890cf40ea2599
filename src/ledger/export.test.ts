/**
 * Export and import: each format of one hand-made ledger against its golden file
 * (test/fixtures/ledger-export/), redacted and not; every format read back to what was
 * exported (JSON and CSV by `ledger import`'s parsers, org and S-expressions by readers here);
 * and import's refusals, each naming the file and the record.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { repoRoot } from '../../test/helpers/testdir.js';
import { exportLedger, type ExportFormat, type LedgerRecords } from './export.js';
import { parseCsv, parseCsvExport, parseExport, parseJsonExport } from './import.js';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'ledger-export');
const records = JSON.parse(readFileSync(path.join(fixtures, 'records.json'), 'utf8')) as LedgerRecords;
const oldestFirst = {
  deployments: ['d1', 'd2', 'd3'].map((id) => records.deployments.find((d) => d.id === id)!),
  rollbacks: records.rollbacks,
};

describe('ledger export: golden files', () => {
  it.each(['json', 'csv', 'org', 'sexp'] as ExportFormat[])('%s, redacted', async (format) => {
    await expect(exportLedger(records, format)).toMatchFileSnapshot(path.join(fixtures, `ledger.${format}`));
  });

  it('json, not redacted', async () => {
    await expect(exportLedger(records, 'json', { redact: false })).toMatchFileSnapshot(path.join(fixtures, 'ledger.unredacted.json'));
  });

  it('redacts e-mail addresses, URL passwords, tokens and secret-named metadata in every format', () => {
    for (const format of ['json', 'csv', 'org', 'sexp'] as ExportFormat[]) {
      const text = exportLedger(records, format);
      for (const personal of [
        'dana@example.com',
        'erin@example.org',
        'ops@example.com',
        'hunter2',
        'not-shown-anywhere',
        'abcdef0123456789xyz',
      ])
        expect(text, format).not.toContain(personal);
      expect(text, format).toContain('ci@runner-7');
    }
  });

  it('exports an empty ledger', () => {
    const empty = { deployments: [], rollbacks: [] };
    expect(JSON.parse(exportLedger(empty, 'json'))).toEqual({ format: 'deployer-ledger', version: 1, deployments: [], rollbacks: [] });
    expect(exportLedger(empty, 'csv').split('\r\n')).toHaveLength(2);
    expect(exportLedger(empty, 'org')).toContain('* Deployments (0)');
    expect(exportLedger(empty, 'sexp')).toContain('(deployments)');
  });
});

/** A minimal reader of what `sexp` writes: strings, numbers, #t/#f, symbols, lists, dotted pairs, vectors. */
function readSexp(text: string): unknown {
  const tokens = text.replace(/;[^\n]*/g, '').match(/"(?:\\.|[^"\\])*"|#\(|[()]|[^\s()]+/g) ?? [];
  let i = 0;
  const value = (): unknown => {
    const t = tokens[i++]!;
    if (t === '(' || t === '#(') {
      const items: unknown[] = [];
      let tail: unknown;
      while (tokens[i] !== ')') {
        if (tokens[i] === '.') {
          i++;
          tail = value();
        } else items.push(value());
      }
      i++;
      if (t === '#(') return { vector: items };
      return tail === undefined ? items : { pair: [items[0], tail] };
    }
    if (t.startsWith('"')) return JSON.parse(t.replace(/\\n/g, '\\n'));
    if (t === '#t' || t === '#f') return t === '#t';
    return /^-?\d/.test(t) ? Number(t) : { symbol: t };
  };
  return value();
}

/** Scheme data back to JSON: an alist of pairs an object, a vector an array, #f null. */
function fromScheme(v: unknown, key?: string): unknown {
  if (v === false) return key === 'completed' || key === 'parentId' ? null : false;
  if (Array.isArray(v)) return Object.fromEntries(v.map((p) => asPair(p)));
  if (v && typeof v === 'object' && 'vector' in v) return (v.vector as unknown[]).map((x) => fromScheme(x));
  if (v && typeof v === 'object' && 'pair' in v) return fromScheme((v.pair as unknown[])[1]);
  return v;
}
function asPair(p: unknown): [string, unknown] {
  const [k, v] = (p as { pair: [unknown, unknown] }).pair;
  const name = typeof k === 'string' ? k : (k as { symbol: string }).symbol.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return [name, fromScheme(v, name)];
}

describe('ledger export: every format reads back to what was exported', () => {
  it('json through import, exactly', () => {
    expect(parseJsonExport(exportLedger(records, 'json', { redact: false }), 'l.json')).toEqual(oldestFirst);
  });

  it('csv through import, exactly', () => {
    expect(parseCsvExport(exportLedger(records, 'csv', { redact: false }), 'l.csv')).toEqual(oldestFirst);
    expect(parseExport(exportLedger(records, 'csv', { redact: false }), 'l.csv')).toEqual(oldestFirst);
  });

  it('sexp, read as Scheme data, exactly', () => {
    const doc = readSexp(exportLedger(records, 'sexp', { redact: false })) as unknown[];
    expect(doc[0]).toEqual({ symbol: 'deployer-ledger' });
    const [, version, deployments, rollbacks] = doc as [unknown, { pair: unknown[] }, unknown[], unknown[]];
    expect(version.pair).toEqual([{ symbol: 'version' }, 1]);
    const entries = (list: unknown[]) => list.slice(1).map((r) => Object.fromEntries((r as unknown[]).slice(1).map(asPair)));
    expect(entries(deployments)).toEqual(oldestFirst.deployments);
    expect(entries(rollbacks)).toEqual(oldestFirst.rollbacks);
  });

  it('a destroy or a restart keeps what it was through json and csv', () => {
    const withOperations: LedgerRecords = {
      deployments: [
        { ...oldestFirst.deployments[0]!, id: 'x1', operation: 'destroy' },
        { ...oldestFirst.deployments[0]!, id: 'x2', operation: 'restart' },
      ],
      rollbacks: [],
    };
    for (const format of ['json', 'csv'] as const) {
      const back = parseExport(exportLedger(withOperations, format, { redact: false }), `l.${format}`);
      expect(
        back.deployments!.map((d) => d.operation),
        format,
      ).toEqual(['destroy', 'restart']);
    }
    const bad = exportLedger(withOperations, 'json', { redact: false }).replace('"restart"', '"reboot"');
    expect(() => parseJsonExport(bad, 'l.json')).toThrow(InvalidInputError);
  });

  it('sexp through import, exactly; a malformed one is refused naming its line', () => {
    const text = exportLedger(records, 'sexp', { redact: false });
    expect(parseExport(text, 'l.scm')).toEqual(oldestFirst);
    const broken = text.replace('(rollbacks', '(rollbacks (rollback (id . "x")');
    expect(() => parseExport(broken, 'l.scm')).toThrow(/^l\.scm: line \d+: /);
    const bad = text.replace('(status . "success")', '(status . "shipped")');
    expect(() => parseExport(bad, 'l.scm')).toThrow(/cannot be imported: 1 problem/);
  });

  it('org: each table row holds the fields it shows, in order', () => {
    const org = exportLedger(records, 'org', { redact: false });
    const rows = org
      .split('\n')
      .filter((l) => l.startsWith('| '))
      .map((l) =>
        l
          .slice(2, -2)
          .split(' | ')
          .map((c) => c.trim().replace(/\\vert\{\}/g, '|')),
      );
    expect(rows[1]).toEqual([
      '2026-11-01T10:00:00.000Z',
      '2026-11-01T10:04:30.000Z',
      'shop',
      'prod',
      'checkout',
      '2.0.0',
      'blue-green',
      'success',
      'ci@runner-7',
      'd1',
    ]);
    expect(rows[3]![1]).toBe(''); // in progress: not completed
    const r1 = records.rollbacks[0]!;
    expect(rows[5]).toEqual([r1.at, r1.stack, r1.environment, r1.service, r1.fromVersion, r1.toVersion, r1.reason, 'd2', r1.id]);
  });
});

describe('ledger import: refusals name the file and the record, and nothing is taken', () => {
  const refusal = (work: () => unknown): InvalidInputError => {
    try {
      work();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidInputError);
      return err as InvalidInputError;
    }
    throw new Error('it was not refused');
  };
  const doc = (over: Record<string, unknown>) =>
    JSON.stringify({ format: 'deployer-ledger', version: 1, deployments: [{ ...oldestFirst.deployments[0], ...over }], rollbacks: [] });

  it('not JSON, or not an export', () => {
    expect(refusal(() => parseJsonExport('{"format":', 'x.json')).details[0]).toMatch(/^x\.json: is not JSON: /);
    expect(refusal(() => parseJsonExport('{"deployments": []}', 'x.json')).details[0]).toMatch(/x\.json: is not a deployer ledger export/);
    expect(refusal(() => parseExport('kind,id\r\n', 'x.csv')).details[0]).toMatch(
      /x\.csv: line 1: is not a deployer ledger CSV export: no column stack/,
    );
  });

  it.each([
    [{ type: 'yolo' }, 'deployments[0].type: "yolo" is not one of blue-green, canary, rolling, big-bang'],
    [{ status: 'done' }, 'deployments[0].status: "done" is not one of'],
    [{ started: 'yesterday' }, 'deployments[0].started: "yesterday" is not an ISO 8601 time with a zone'],
    [{ started: '2026-11-01T10:00:00' }, 'deployments[0].started: "2026-11-01T10:00:00" is not an ISO 8601 time with a zone'],
    [
      { completed: '2026-11-01T09:00:00Z' },
      'deployments[0].completed: 2026-11-01T09:00:00.000Z is before started 2026-11-01T10:00:00.000Z',
    ],
    [{ completed: null }, 'deployments[0].completed: is missing, and status is success'],
    [{ service: '' }, 'deployments[0].service: is missing'],
    [{ metadata: [1] }, 'deployments[0].metadata: is not an object'],
  ])('%j', (over, problem) => {
    const err = refusal(() => parseJsonExport(doc(over), 'ledger.json'));
    expect(err.message).toBe('ledger.json cannot be imported: 1 problem(s)');
    expect(err.details[0]).toContain(`ledger.json: ${problem}`);
    expect(err.details.at(-1)).toBe('Nothing was imported.');
  });

  it('a bad CSV row names its line', () => {
    const text = exportLedger(records, 'csv', { redact: false }).replace(',rolling,', ',sideways,');
    expect(refusal(() => parseCsvExport(text, 'l.csv')).details[0]).toBe(
      'l.csv: line 4.type: "sideways" is not one of blue-green, canary, rolling, big-bang',
    );
  });

  it('CSV records are counted by the line they start on: a quoted line break is inside a field', () => {
    expect(parseCsv('a,b\r\n"x\ny","say ""hi"""\n3,\n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x\ny', 'say "hi"'] },
      { line: 4, fields: ['3', ''] },
    ]);
  });

  it('lists at most 20 problems, and says how many more', () => {
    const many = JSON.stringify({
      format: 'deployer-ledger',
      version: 1,
      deployments: Array.from({ length: 25 }, () => ({})),
      rollbacks: 'no',
    });
    const err = refusal(() => parseJsonExport(many, 'm.json'));
    expect(err.message).toMatch(/^m\.json cannot be imported: \d+ problem\(s\)$/);
    expect(err.details).toHaveLength(22);
    expect(err.details[20]).toMatch(/^\.\.\. and \d+ more$/);
  });
});

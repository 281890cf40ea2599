/**
 * `deployer ledger export` and `import` as a user runs them: a ledger exported to a file,
 * imported into a new SQLite ledger and a PostgreSQL one, exported again byte for byte; a
 * refused file exits 2 and writes nothing, not even a new ledger file.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployer, deployerJson } from '../../test/helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/postgres.js';
import { removeTestdirs, testdir } from '../../test/helpers/testdir.js';
import { SqliteLedger } from '../ledger/sqlite.js';
import type { LedgerRecords } from '../ledger/export.js';

let dir: string;
let pg: TestDatabase;
const fixture = (): LedgerRecords => JSON.parse(readFileSync(path.join(dir, 'records.json'), 'utf8')) as LedgerRecords;

beforeAll(async () => {
  dir = testdir('ledger-export');
  pg = await createTestDatabase();
  const ledger = new SqliteLedger(path.join(dir, 'source.db'));
  await ledger.recordMany(fixture());
  await ledger.close();
});
afterAll(async () => {
  await pg.drop();
  removeTestdirs();
});

describe('ledger export and import', () => {
  it('exports to standard output, redacted by default', async () => {
    const r = await deployer(['ledger', 'export', '--format', 'org', '--ledger', path.join(dir, 'source.db')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(readFileSync(path.join(dir, 'ledger.org'), 'utf8'));
  });

  it('a file exported, imported into SQLite and PostgreSQL, exports again the same', async () => {
    const out = path.join(dir, 'out', 'full.json');
    const exported = await deployerJson<{ deployments: number; rollbacks: number; redacted: boolean }>([
      'ledger',
      'export',
      '--no-redact',
      '--output',
      out,
      '--ledger',
      path.join(dir, 'source.db'),
    ]);
    expect(exported.json).toMatchObject({ deployments: 3, rollbacks: 1, redacted: false });
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(path.join(dir, 'ledger.unredacted.json'), 'utf8'));

    for (const target of [path.join(dir, 'copy.db'), pg.url]) {
      const imported = await deployer(['ledger', 'import', out], { DEPLOY_LEDGER_DB: target });
      expect(imported.code, imported.stderr).toBe(0);
      expect(imported.stdout).toMatch(/^Imported 3 deployment\(s\) and 1 rollback\(s\) from .*full\.json into /);
      const again = await deployer(['ledger', 'export', '--no-redact'], { DEPLOY_LEDGER_DB: target });
      expect(again.stdout).toBe(readFileSync(out, 'utf8'));
      expect((await deployer(['ledger', 'verify'], { DEPLOY_LEDGER_DB: target })).stdout).toMatch(/intact: 4 row/);
    }
  });

  it('imports a CSV export too, and filters what it exports', async () => {
    const csv = path.join(dir, 'prod.csv');
    const r = await deployer([
      'ledger',
      'export',
      '--format',
      'csv',
      '-e',
      'prod',
      '--no-redact',
      '--output',
      csv,
      '--ledger',
      path.join(dir, 'source.db'),
    ]);
    expect(r.stdout).toMatch(/Exported 2 deployment\(s\) and 1 rollback\(s\) to .*prod\.csv \(csv, not redacted\)/);
    const target = path.join(dir, 'from-csv.db');
    expect((await deployer(['ledger', 'import', csv, '--ledger', target])).code).toBe(0);
    const listed = await deployerJson<{ deployments: Array<{ id: string }> }>(['ledger', 'list-deployments', '--ledger', target]);
    expect(listed.json.deployments.map((d) => d.id)).toEqual(['d2', 'd1']);
  });

  it('a refused file exits 2, names the problem and writes nothing', async () => {
    const bad = path.join(dir, 'bad.json');
    const doc = { format: 'deployer-ledger', version: 1, ...fixture() };
    doc.deployments[1]!.status = 'shipped' as never;
    writeFileSync(bad, JSON.stringify(doc));
    const target = path.join(dir, 'never.db');
    const r = await deployer(['ledger', 'import', bad, '--ledger', target]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad.json: deployments[1].status: "shipped" is not one of');
    expect(r.stderr).toContain('Nothing was imported.');
    expect(existsSync(target)).toBe(false);

    const missing = await deployer(['ledger', 'import', path.join(dir, 'nope.json'), '--ledger', target]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.json: no such file/);
    expect((await deployer(['ledger', 'export', '--format', 'xml', '--ledger', target])).code).toBe(2);
    expect(existsSync(target)).toBe(false);
  });
});

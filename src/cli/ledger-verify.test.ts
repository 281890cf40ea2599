/**
 * `deployer ledger verify --aggregates` and `deployer ledger recount` as a user runs them, on a
 * ledger an older writer left behind: a record written without its aggregates (as a deployer that
 * did not know them writes it) is found by the check (exit 1, the tables named), which changes
 * nothing; recount mends them, and show-metrics reads the record.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployer, deployerJson } from '../../test/helpers/cli.js';
import { createTestDatabase } from '../../test/helpers/postgres.js';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import pg from 'pg';
import { PostgresLedger } from '../ledger/postgres.js';
import { deployment, failureRestoredAndCommitShipped } from '../ledger/ledger.contract.js';
import { SqliteLedger } from '../ledger/sqlite.js';
import { SqliteWriter } from '../ledger/sqlite-history.js';

let db: string;
const env = (): Record<string, string> => ({ DEPLOY_LEDGER_DB: db });
const leadTime = ['ledger', 'show-metrics', '--metric', 'lead-time', '--from', '2025-03-01T00:00:00Z', '--to', '2025-03-31T23:59:59Z'];

beforeAll(async () => {
  db = path.join(writeStackDir({}), 'ledger.db');
  const ledger = new SqliteLedger(db);
  await ledger.recordMany(failureRestoredAndCommitShipped());
  await ledger.close();
});
afterAll(() => removeTestdirs());

describe('ledger verify --aggregates and ledger recount', () => {
  it('an intact ledger: its aggregates agree with a recount, and recount changes nothing', async () => {
    const checked = await deployer(['ledger', 'verify', '--aggregates'], env());
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toMatch(/intact: 3 row\(s\) of history, .*and the metrics' aggregates agree with a recount of the records/);
    const recounted = await deployer(['ledger', 'recount'], env());
    expect(recounted.stdout).toMatch(/every table was as kept/);
  });

  it('a record written without its aggregates is named by the check, which keeps nothing; recount mends them', async () => {
    // An older deployer's write: the record and its row of history (so the chain stays intact), and no aggregates.
    const d5 = deployment('d5', {
      started: '2025-03-05T10:00:00.000Z',
      completed: '2025-03-05T10:05:00.000Z',
      metadata: { changes: [{ commit: 'c5', committedAt: '2025-03-05T09:05:00.000Z' }] },
    });
    const raw = new Database(db);
    raw.transaction(() => {
      raw
        .prepare(
          `INSERT INTO deployments (id, stack, service, version, environment, type, started, completed, status, initiator, metadata, parent_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          ...[d5.id, d5.stack, d5.service, d5.version, d5.environment, d5.type, d5.started, d5.completed, d5.status, d5.initiator],
          JSON.stringify(d5.metadata),
          d5.parentId,
        );
      const writer = new SqliteWriter(raw);
      writer.storeHead(writer.append(writer.head(), 'deployment', d5.id, d5, d5.completed!, true));
    })();
    raw.close();
    expect((await deployerJson<{ results: Array<{ counted: number }> }>(leadTime, env())).json.results[0]?.counted).toBe(1);

    const checked = await deployer(['ledger', 'verify', '--aggregates'], env());
    expect(checked.code).toBe(1);
    expect(checked.stderr).toMatch(
      /the metrics' aggregates of the ledger .* differ from its records .*`deployer ledger recount` counts them again/,
    );
    expect(checked.stderr).toMatch(/metric_samples: 1 row\(s\) differ from a recount of the records/);
    const asJson = await deployerJson<{ ok: boolean; error: { code: string; details: string[] } }>(
      ['ledger', 'verify', '--aggregates'],
      env(),
    );
    expect(asJson.json.error.code).toBe('LEDGER_TAMPERED');
    expect(asJson.json.error.details).toContain('metric_bins_all_services: 1 row(s) differ from a recount of the records');
    // The check kept nothing: the metric still reads one change.
    expect((await deployerJson<{ results: Array<{ counted: number }> }>(leadTime, env())).json.results[0]?.counted).toBe(1);

    const recounted = await deployerJson<{ recounted: Array<{ table: string; differingRows: number }> }>(['ledger', 'recount'], env());
    expect(recounted.json.recounted).toContainEqual({ table: 'metric_samples', differingRows: 1 });
    const after = await deployerJson<{ results: Array<{ value: number; counted: number }> }>(leadTime, env());
    expect(after.json.results[0]).toMatchObject({ value: (7200 + 3600) / 2, counted: 2 });
    expect((await deployer(['ledger', 'verify', '--aggregates'], env())).code).toBe(0);
  });

  it('on PostgreSQL, a ledger changed behind its back is named without the password of its URL', async () => {
    const db = await createTestDatabase();
    try {
      const ledger = new PostgresLedger(db.url);
      await ledger.recordMany(failureRestoredAndCommitShipped());
      await ledger.close();
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      await client.query(`UPDATE deployments SET status = 'success' WHERE id = 'd1'`);
      await client.end();
      // The test server trusts loopback: any password is accepted, and must never be printed.
      const url = new URL(db.url);
      url.password = 's3cret-pw';
      const checked = await deployer(['ledger', 'verify', '--aggregates', '--ledger', url.toString()]);
      expect(checked.code).toBe(1);
      expect(checked.stderr).toMatch(
        /the ledger postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/\S+ was changed behind its back: 1 problem/,
      );
      expect(checked.stderr).toMatch(/deployment d1 no longer says what its last write/);
      expect(checked.stdout + checked.stderr).not.toContain('s3cret-pw');
    } finally {
      await db.drop();
    }
  });
});

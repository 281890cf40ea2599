/**
 * The ledger's numbered migrations: a new file starts at the latest version, a ledger written
 * before migrations were numbered adopts version 1 with its rows, a file from a newer deployer
 * is refused untouched, and a migration that fails leaves the file at the version before it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { openLedger } from './index.js';
import { entry } from './access.contract.js';
import { deployment, failureRestoredAndCommitShipped, rollback } from './ledger.contract.js';
import { MIGRATIONS, SCHEMA_VERSION, migrateSqlite, type Migration } from './migrations.js';
import { deploymentTotalsOf } from './totals.js';
import { queryMetric } from './metric-query.js';
import { SqliteWriter } from './sqlite-history.js';

const dirs: string[] = [];
function ledgerFile(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-migrations-'));
  dirs.push(dir);
  return path.join(dir, 'ledger.db');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const versionOf = (file: string): number => {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
};
const tablesOf = (file: string): string[] => {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>).map(
      (r) => r.name,
    );
  } finally {
    db.close();
  }
};

/** The deployments table's indexes, by name and definition. */
const indexesOf = (db: Database.Database): Array<{ name: string; sql: string | null }> =>
  db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deployments' ORDER BY name`).all() as Array<{
    name: string;
    sql: string | null;
  }>;

describe('ledger migrations', () => {
  it('numbers the migrations 1, 2, 3 ... with no gap', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  it('a new ledger file starts at the latest schema version', async () => {
    const file = ledgerFile();
    const ledger = openLedger(file);
    await ledger.recordDeployment(deployment('d1'));
    await ledger.close();
    expect(versionOf(file)).toBe(SCHEMA_VERSION);
    expect(tablesOf(file)).toEqual(expect.arrayContaining(['deployments', 'rollbacks']));
  });

  it('a ledger written before migrations were numbered is migrated, keeping its rows, which start its history', async () => {
    const file = ledgerFile();
    const old = new Database(file);
    old.exec(MIGRATIONS[0]!.sqlite);
    old
      .prepare(
        `INSERT INTO deployments (id, stack, service, version, environment, type, started, completed, status, initiator, metadata, parent_id)
         VALUES ('d0', 'shop', 'web', '1.0.0', 'prod', 'rolling', '2026-01-01T00:00:00.000Z', NULL, 'success', 'alice@laptop', '{}', NULL)`,
      )
      .run();
    old.close();
    expect(versionOf(file)).toBe(0);
    const ledger = openLedger(file);
    expect((await ledger.listDeployments()).map((d) => [d.id, d.version, d.status])).toEqual([['d0', '1.0.0', 'success']]);
    // What it held before the audit history existed is the history's first row.
    expect(await ledger.verify()).toEqual({ ok: true, rows: 1, problems: [] });
    await ledger.close();
    expect(versionOf(file)).toBe(SCHEMA_VERSION);
  });

  it('a ledger at version 4 moves to 5 (its deployments table rebuilt) with every record and its whole history intact', async () => {
    const file = ledgerFile();
    const db = new Database(file);
    db.exec(MIGRATIONS[0]!.sqlite);
    db.exec(`INSERT INTO deployments (id, stack, service, version, environment, type, started, completed, status, initiator, metadata, parent_id)
             VALUES ('d1', 'web', 'api', 'v1', 'prod', 'big-bang', '2025-03-01T10:00:00.000Z', '2025-03-01T10:05:00.000Z', 'success', 'alice@laptop', '{"gitCommit":"abc123"}', 'run-1');
             INSERT INTO rollbacks (id, stack, service, environment, from_version, to_version, reason, at)
             VALUES ('r1', 'web', 'api', 'prod', 'v2', 'v1', 'error rate above 5%', '2025-03-01T11:00:00.000Z');`);
    // Up to 4: the history backfilled by migration 2, the index of 3, the changes of 4.
    migrateSqlite(db, file, MIGRATIONS.slice(0, 4));
    db.close();
    expect(versionOf(file)).toBe(4);

    const after = openLedger(file);
    expect(await after.listDeployments()).toEqual([deployment('d1')]);
    // A rollback recorded before the ledger kept the deployment it undid reads as it was written.
    expect(await after.listRollbacks()).toEqual([rollback('r1')]);
    expect(await after.verify()).toEqual({ ok: true, rows: 2, problems: [] });
    await after.recordDeployment(deployment('d2', { status: 'pending', completed: null }));
    expect((await after.listDeployments({ status: 'pending' })).map((d) => d.id)).toEqual(['d2']);
    await after.close();
    expect(versionOf(file)).toBe(SCHEMA_VERSION);
  });

  it('a ledger at version 8 moves on: the access tables and the triggers of the audit log, every record intact', async () => {
    const file = ledgerFile();
    const db = new Database(file);
    db.exec(MIGRATIONS[0]!.sqlite);
    db.exec(`INSERT INTO deployments (id, stack, service, version, environment, type, started, completed, status, initiator, metadata, parent_id)
             VALUES ('d1', 'web', 'api', 'v1', 'prod', 'big-bang', '2025-03-01T10:00:00.000Z', '2025-03-01T10:05:00.000Z', 'success', 'alice@laptop', '{"gitCommit":"abc123"}', 'run-1');`);
    expect(migrateSqlite(db, file, MIGRATIONS.slice(0, 8))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    db.close();
    expect(tablesOf(file)).not.toContain('audit_log');

    const after = openLedger(file);
    expect(await after.listDeployments()).toEqual([deployment('d1')]);
    expect(await after.verify()).toEqual({ ok: true, rows: 1, problems: [] });
    expect(await after.deploymentTotals([300])).toMatchObject([{ service: 'api', count: 1, buckets: [1], durationSum: 300 }]);
    expect((await after.access().appendAudit(entry())).seq).toBe(1);
    await after.close();
    expect(versionOf(file)).toBe(SCHEMA_VERSION);
    expect(tablesOf(file)).toEqual(expect.arrayContaining(['api_tokens', 'audit_log', 'webhook_deliveries']));
    const check = new Database(file);
    try {
      const triggers = check.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name`).all();
      expect(triggers).toEqual([{ name: 'audit_log_no_delete' }, { name: 'audit_log_no_update' }]);
      expect(() => check.exec('DELETE FROM audit_log')).toThrow('audit_log is append-only');
    } finally {
      check.close();
    }
  });

  it('a ledger at version 9 moves on: stop and start are operations, every record and index kept', async () => {
    const file = ledgerFile();
    const db = new Database(file);
    expect(migrateSqlite(db, file, MIGRATIONS.slice(0, 9))).toHaveLength(9);
    const indexesAt9 = indexesOf(db);
    db.close();
    const at9 = openLedger(file);
    await at9.recordMany({ deployments: [deployment('d1'), deployment('r1', { operation: 'restart' })] });
    await at9.close();
    // Opened at 9 by this deployer: migrated before anything is read or written.
    const after = openLedger(file);
    await after.recordDeployment(deployment('s1', { operation: 'stop', started: '2025-03-02T10:00:00.000Z' }));
    await after.recordDeployment(deployment('s2', { operation: 'start', started: '2025-03-02T11:00:00.000Z' }));
    expect((await after.listDeployments()).map((d) => [d.id, d.operation ?? 'deploy'])).toEqual(
      expect.arrayContaining([
        ['d1', 'deploy'],
        ['r1', 'restart'],
        ['s1', 'stop'],
        ['s2', 'start'],
      ]),
    );
    // Only the deployment counts in a metric.
    expect(await after.deploymentTotals([300])).toMatchObject([{ service: 'api', count: 1 }]);
    await after.close();
    expect(versionOf(file)).toBe(SCHEMA_VERSION);
    const check = new Database(file);
    try {
      // Migration 11 dropped the totals index (counters serve the totals since).
      expect(indexesOf(check).map((i) => i.name)).toEqual(indexesAt9.map((i) => i.name).filter((n) => n !== 'deployments_totals'));
      expect(() => check.exec(`UPDATE deployments SET operation = 'pause' WHERE id = 's1'`)).toThrow(/CHECK constraint/);
    } finally {
      check.close();
    }
  });

  it('refuses a ledger from a newer deployer, naming both versions, and leaves it untouched', () => {
    const file = ledgerFile();
    const newer = new Database(file);
    newer.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    newer.close();
    let error: unknown;
    try {
      openLedger(file);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain(
      `is at schema version ${SCHEMA_VERSION + 5}, newer than this deployer knows (${SCHEMA_VERSION})`,
    );
    expect(versionOf(file)).toBe(SCHEMA_VERSION + 5);
    expect(tablesOf(file)).toEqual([]);
  });

  it('a ledger at version 10 moves to 11: the totals are counted from its deployments, and the totals index is gone', async () => {
    const file = ledgerFile();
    const db = new Database(file);
    expect(migrateSqlite(db, file, MIGRATIONS.slice(0, 10))).toHaveLength(10);
    expect(indexesOf(db).map((i) => i.name)).toContain('deployments_totals');
    const events = [
      deployment('d1'),
      deployment('d2', { status: 'failed', completed: '2025-03-01T10:00:30.500Z' }),
      deployment('d3', { status: 'in-progress', completed: null }),
      deployment('d4', { completed: '2025-03-01T12:00:00.001Z' }),
      deployment('r1', { operation: 'restart' }),
      // Finer than a millisecond, as another tool may write it: counted as every write counts it (whole milliseconds).
      deployment('a1', { service: 'web', completed: '2025-03-01T10:00:05.0006Z' }),
    ];
    const insert = db.prepare(
      `INSERT INTO deployments (id, stack, service, version, environment, type, started, completed, status, initiator, metadata, parent_id, operation)
       VALUES (@id, @stack, @service, @version, @environment, @type, @started, @completed, @status, @initiator, '{}', @parentId, @operation)`,
    );
    for (const e of events) insert.run({ ...e, operation: e.operation ?? 'deploy' });
    db.close();

    const after = openLedger(file);
    const bounds = [30, 300, 7200, Infinity];
    const totals = await after.deploymentTotals(bounds);
    // What the records say, as the memory store (which keeps no counters) computes it.
    expect(totals).toEqual(deploymentTotalsOf(events, bounds));
    expect(totals.map((t) => [t.service, t.status, t.count, t.buckets, t.durationSum])).toEqual([
      ['api', 'failed', 1, [0, 1, 1, 1], 30.5],
      ['api', 'in-progress', 1, [0, 0, 0, 0], 0],
      ['api', 'success', 2, [0, 1, 1, 2], 300 + 7200.001],
      ['web', 'success', 1, [1, 1, 1, 1], 5],
    ]);
    // Records the migration counted, written again through the store, leave the buckets it put them in.
    const rewritten = [
      deployment('d3', { completed: '2025-03-01T10:00:10.000Z' }),
      deployment('a1', { service: 'web', status: 'failed', completed: '2025-03-01T10:00:05.0006Z' }),
      deployment('d5', { completed: '2025-03-01T10:00:05.000Z' }),
    ];
    await after.recordMany({ deployments: rewritten });
    const final = [...events.filter((e) => !['d3', 'a1'].includes(e.id)), ...rewritten];
    expect(await after.deploymentTotals(bounds)).toEqual(deploymentTotalsOf(final, bounds));
    expect((await after.deploymentTotals([5])).map((t) => [t.service, t.status, t.buckets])).toEqual([
      ['api', 'failed', [0]],
      ['api', 'success', [1]],
      ['web', 'failed', [1]],
    ]);
    await after.close();
    expect(versionOf(file)).toBe(SCHEMA_VERSION);
    const check = new Database(file);
    try {
      expect(indexesOf(check).map((i) => i.name)).not.toContain('deployments_totals');
    } finally {
      check.close();
    }
  });

  it('a ledger at version 11 moves to 12: its samples kept, in the order medians read them, and the medians the same', async () => {
    const file = ledgerFile();
    const db = new Database(file);
    expect(migrateSqlite(db, file, MIGRATIONS.slice(0, 11))).toHaveLength(11);
    // Written as this deployer writes, into the tables of version 11.
    db.transaction(() => new SqliteWriter(db).write(failureRestoredAndCommitShipped()))();
    const samplesAt11 = db.prepare('SELECT * FROM metric_samples ORDER BY metric, deployment_id').all();
    expect(samplesAt11).toHaveLength(2);
    db.close();

    const after = openLedger(file);
    const window = { from: '2025-03-01T00:00:00.000Z', to: '2025-03-31T23:59:59.999Z' };
    expect(await queryMetric(after, { metric: 'mttr', window, timeZone: 'UTC' })).toMatchObject([{ value: 3300, counted: 1 }]);
    expect(await queryMetric(after, { metric: 'lead-time', window, timeZone: 'UTC' })).toMatchObject([{ value: 7200, counted: 1 }]);
    // A rewrite of d1 as a success takes its recovery sample away by its whole key.
    await after.recordDeployment(deployment('d1', { started: '2025-03-01T10:00:00.000Z', completed: '2025-03-01T10:05:00.000Z' }));
    expect(await queryMetric(after, { metric: 'mttr', window, timeZone: 'UTC' })).toMatchObject([{ value: null, counted: 0 }]);
    await after.close();
    const check = new Database(file, { readonly: true });
    try {
      expect(check.prepare('SELECT * FROM metric_samples ORDER BY metric, deployment_id').all()).toEqual([
        // d1 now a success without commits (counted apart), d2's sample as version 11 kept it, d1's recovery gone.
        expect.objectContaining({ metric: 'lead-time', deployment_id: 'd1', bin: -2 }),
        samplesAt11[0],
      ]);
      const plan = check
        .prepare(`EXPLAIN QUERY PLAN SELECT seconds FROM metric_samples WHERE metric = 'lead-time' AND bin = 3 AND started >= '2025'`)
        .all() as Array<{ detail: string }>;
      expect(plan.map((p) => p.detail).join()).toContain('USING PRIMARY KEY');
    } finally {
      check.close();
    }
  });

  it('a migration that fails leaves the file at the version before it, with nothing of it applied', () => {
    const file = ledgerFile();
    const broken: Migration = { version: 2, name: 'broken', sqlite: 'CREATE TABLE half (x INTEGER); CREATE TABLE oops (', postgres: '' };
    const db = new Database(file);
    try {
      expect(() => migrateSqlite(db, file, [MIGRATIONS[0]!, broken])).toThrow();
      expect(db.pragma('user_version', { simple: true })).toBe(1);
      expect(tablesOf(file)).not.toContain('half');
      // Applied again, what is done is not done twice.
      expect(migrateSqlite(db, file, [MIGRATIONS[0]!])).toEqual([]);
    } finally {
      db.close();
    }
  });
});

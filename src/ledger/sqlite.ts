/**
 * The ledger in SQLite (better-sqlite3, WAL): one file, safe for several readers and a writer,
 * its schema brought up to date on open (migrations.ts).
 * better-sqlite3 is synchronous: each method does its work at once and settles its promise with
 * the result, or rejects with the error (a machine fault, such as a full disk, said so).
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { LedgerUnavailableError, MachineFaultError, machineFault } from '../errors.js';
import { noSpaceLeft } from '../util/disk.js';
import { ChainVerifier, tamperedWrite, type ChainVerification } from './chain.js';
import { migrateSqlite } from './migrations.js';
import {
  CHANGE_COLUMNS,
  deploymentOf,
  metricDeploymentOf,
  metricRowsQuery,
  type MetricRow,
  rollbackOf,
  ROLLBACK_COLUMNS,
  typeInfo,
  type DeploymentRow,
} from './rows.js';
import { countFromAggregates, sampleSummary } from './aggregate-reads.js';
import { recountAggregates, revisionOf } from './aggregate-recount.js';
import { SqliteWriter } from './sqlite-history.js';
import { verifyHistory } from './verify-steps.js';
import { runSqlite, type SqlWork } from './sql-steps.js';
import { orderedTypes, REGISTER_TYPE_SQL, refuseTypeName } from './types.js';
import { DRIFT_TYPE } from './store.js';
import type { AccessStore } from './access.js';
import { SqliteAccess } from './access-sqlite.js';
import { deploymentTotalsSql, rollbackTotalsSql } from './totals.js';
import type {
  AggregateDifference,
  ChangeEvent,
  DeploymentTotals,
  RollbackTotals,
  DeploymentTypeInfo,
  CountFilter,
  SampleFilter,
  SampleSummary,
  DeploymentEvent,
  DeploymentFilter,
  LedgerBatch,
  LedgerStore,
  StatusCount,
  RollbackEvent,
  RollbackFilter,
} from './store.js';

const require = createRequire(import.meta.url);

/**
 * better-sqlite3, loaded when a ledger is first opened: a run with nothing to record (a no-op
 * apply) imports this module but never opens the ledger, and loading the driver was a few ms of it.
 */
const sqliteDriver = (): typeof Database => require('better-sqlite3') as typeof Database;

/** The upsert of a registered type with SQLite's parameters. */
const REGISTER_TYPE_SQLITE = REGISTER_TYPE_SQL.replace('$1', '?').replace('$2', '?');

/**
 * What every connection to a ledger file sets once it is in WAL mode. Exported for
 * bench/ledger-floor.js, which writes the floor under the ingest with the same settings.
 */
export const SQLITE_SETTINGS: readonly string[] = [
  // WAL with NORMAL: a commit survives a crash of deployer (not always one of the machine's power), at a fraction of FULL's fsyncs.
  'synchronous = NORMAL',
  // 64 MiB of page cache: the indexes of a large ledger stay in memory while it is written and counted.
  'cache_size = -65536',
  // A deployment's type must be one the ledger knows (deployment_types, migration 5).
  'foreign_keys = ON',
  // No wal_autocheckpoint: SQLite's checkpoint every 1,000 pages is kept. With NORMAL a checkpoint
  // is when the WAL is synced, and a larger threshold bought no clear time at 1M events (docs/ledger.md).
];

/** What leaves a transaction whose work is not to be kept (a check by recount). */
const NOT_KEPT = Symbol('not kept');

/** How long a write waits for other writers of the file in all. */
const WRITE_WAIT_MS = 120_000;

/**
 * `work`, tried again for up to `ms` while SQLite says the file is busy: opening (setting WAL is a
 * step its busy timeout does not cover), and writes, whose lock is not fair.
 */
function retryWhileBusy<T>(work: () => T, ms: number): T {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return work();
    } catch (err) {
      if ((err as { code?: unknown } | null)?.code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

/** LedgerStore over one SQLite file, created (with the directories above it) when missing. */
export class SqliteLedger implements LedgerStore {
  private readonly db: Database.Database;
  private writer: SqliteWriter | undefined;
  private accessStore: SqliteAccess | undefined;

  constructor(private readonly file: string) {
    this.db = this.guard('open the ledger', () => {
      mkdirSync(path.dirname(file), { recursive: true });
      const db = new (sqliteDriver())(file);
      try {
        db.pragma('busy_timeout = 5000');
        // Setting WAL takes the file for a moment: another process opening it at once may find it busy.
        retryWhileBusy(() => db.pragma('journal_mode = WAL'), 10_000);
        for (const setting of SQLITE_SETTINGS) db.pragma(setting);
        migrateSqlite(db, file);
      } catch (err) {
        db.close();
        throw err;
      }
      return db;
    });
  }

  /** A full disk or a read-only file system under the ledger is the machine's fault: said so, naming the file. */
  private guard<T>(what: string, work: () => T): T {
    try {
      return work();
    } catch (err) {
      const fault = machineFault(err, `cannot ${what}`, this.file);
      // SQLite reports some writes to a full disk as I/O errors (its shared-memory file, the WAL).
      if (fault?.systemCode === 'SQLITE_IOERR' && noSpaceLeft(path.dirname(this.file)))
        throw new MachineFaultError('ENOSPC', `cannot ${what}`, this.file, err);
      throw fault ?? err;
    }
  }

  async recordDeployment(e: DeploymentEvent): Promise<void> {
    this.guard('record a deployment in the ledger', () => this.write({ deployments: [e] }));
  }

  async recordRollback(e: RollbackEvent): Promise<void> {
    this.guard('record a rollback in the ledger', () => this.write({ rollbacks: [e] }));
  }

  async recordMany(batch: LedgerBatch): Promise<void> {
    this.guard('record in the ledger', () => this.write(batch));
  }

  async listDeployments(f: DeploymentFilter = {}): Promise<DeploymentEvent[]> {
    return this.guard('read the ledger', () => this.readDeployments(f));
  }

  async listRollbacks(f: RollbackFilter = {}): Promise<RollbackEvent[]> {
    return this.guard('read the ledger', () => this.readRollbacks(f));
  }

  async registerType(name: string, description: string): Promise<void> {
    refuseTypeName(name);
    this.guard('register a deployment type', () =>
      this.writeTransaction(() => this.db.prepare(REGISTER_TYPE_SQLITE).run(name, description)),
    );
  }

  async deploymentTypes(): Promise<DeploymentTypeInfo[]> {
    type Row = { name: string; description: string; builtin: number };
    const rows = this.guard(
      'read the ledger',
      () => this.db.prepare(`SELECT name, description, builtin FROM deployment_types WHERE name <> '${DRIFT_TYPE}'`).all() as Row[],
    );
    return orderedTypes(rows.map(typeInfo));
  }

  async recordChanges(changes: readonly ChangeEvent[]): Promise<number> {
    return this.guard('record changes in the ledger', () => {
      const insert = this.db.prepare(
        `INSERT INTO changes (repo, commit_sha, committed_at, recorded_at, shipped_by) VALUES (@repo, @commit, @committedAt, @recordedAt, @shippedBy)
         ON CONFLICT (repo, commit_sha) DO NOTHING`,
      );
      return this.writeTransaction(() => changes.reduce((n, c) => n + insert.run(c).changes, 0));
    });
  }

  async pendingChanges(repo: string): Promise<ChangeEvent[]> {
    return this.guard(
      'read the ledger',
      () =>
        this.db
          .prepare(`SELECT ${CHANGE_COLUMNS} FROM changes WHERE repo = ? AND shipped_by IS NULL ORDER BY committed_at, commit_sha`)
          .all(repo) as ChangeEvent[],
    );
  }

  async shipChanges(repo: string, commits: readonly string[], runId: string): Promise<void> {
    this.guard('record changes in the ledger', () => {
      const ship = this.db.prepare('UPDATE changes SET shipped_by = ? WHERE repo = ? AND commit_sha = ? AND shipped_by IS NULL');
      this.writeTransaction(() => commits.forEach((c) => ship.run(runId, repo, c)));
    });
  }

  async listForMetrics(f: Omit<CountFilter, 'until' | 'groupBy'>): Promise<DeploymentEvent[]> {
    const { sql, params } = metricRowsQuery(f, (i) => `@p${i}`, {
      changes: `json_extract(metadata, '$.changes')`,
      commitTime: `json_extract(metadata, '$.commit_time')`,
    });
    const named = Object.fromEntries(params.map((v, i) => [`p${i}`, v]));
    return this.guard('read the ledger', () => (this.db.prepare(sql).all(named) as MetricRow[]).map(metricDeploymentOf));
  }

  async countDeployments(f: CountFilter): Promise<StatusCount[]> {
    return this.guard('read the ledger', () => this.snapshot(countFromAggregates(f)));
  }

  async sampleMedian(f: SampleFilter): Promise<SampleSummary> {
    return this.guard('read the ledger', () => this.snapshot(sampleSummary(f)));
  }

  /** A read of several statements in one transaction: all of them see the ledger as one moment left it. */
  private snapshot<R>(work: SqlWork<R>): R {
    return this.db.transaction(() => runSqlite(this.db, work)).deferred();
  }

  async deploymentTotals(bucketsSeconds: readonly number[]): Promise<DeploymentTotals[]> {
    return this.guard('read the ledger', () => runSqlite(this.db, deploymentTotalsSql(bucketsSeconds)));
  }

  async rollbackTotals(): Promise<RollbackTotals[]> {
    return this.guard('read the ledger', () => runSqlite(this.db, rollbackTotalsSql()));
  }

  /** Reads and writes of the access tables handled as the ledger's own (a machine's fault named, other writers waited for). */
  access(): AccessStore {
    return (this.accessStore ??= new SqliteAccess(this.db, {
      read: (what, work) => this.guard(what, work),
      write: (what, work) => this.guard(what, () => this.writeTransaction(work)),
    }));
  }

  async revision(): Promise<string> {
    return this.guard('read the ledger', () => {
      const head = this.db.prepare('SELECT rows, hash, recounts FROM ledger_head WHERE id = 1').get() as
        { rows: number; hash: string; recounts: number } | undefined;
      return head ? revisionOf(head) : 'no head';
    });
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async verify(): Promise<ChainVerification> {
    return this.guard('read the ledger', () =>
      this.db
        .transaction(() => {
          const verifier = new ChainVerifier();
          runSqlite(this.db, verifyHistory(verifier));
          // Each record as it streams from SQLite (newest first, as before): a large ledger is never held whole.
          for (const row of this.db
            .prepare('SELECT * FROM deployments ORDER BY started DESC, id')
            .iterate() as IterableIterator<DeploymentRow>) {
            verifier.current('deployment', deploymentOf(row));
          }
          for (const row of this.db
            .prepare(`SELECT ${ROLLBACK_COLUMNS} FROM rollbacks ORDER BY at DESC, id`)
            .iterate() as IterableIterator<RollbackEvent>) {
            verifier.current('rollback', rollbackOf(row));
          }
          return verifier.result();
        })
        .deferred(),
    );
  }

  async recountAggregates(options: { keep: boolean }): Promise<AggregateDifference[]> {
    return this.guard("count the ledger's aggregates again", () => {
      let differences: AggregateDifference[] = [];
      try {
        this.writeTransaction(() => {
          differences = runSqlite(this.db, recountAggregates());
          // Thrown out of the transaction, which rolls it back: a check keeps nothing.
          if (!options.keep) throw NOT_KEPT;
        });
      } catch (err) {
        if (err !== NOT_KEPT) throw err;
      }
      return differences;
    });
  }

  /**
   * `work` in a write transaction taken at once. SQLite's lock is not fair: under another
   * process's steady writes, one attempt can wait out the busy timeout (5 s); the write is tried
   * again until WRITE_WAIT_MS have passed, then refused as the ledger being unavailable, never lost silently.
   */
  private writeTransaction<T>(work: () => T): T {
    try {
      return retryWhileBusy(() => this.db.transaction(work).immediate(), WRITE_WAIT_MS);
    } catch (err) {
      if ((err as { code?: unknown } | null)?.code !== 'SQLITE_BUSY') throw err;
      throw new LedgerUnavailableError(this.file, `another process kept it locked for ${WRITE_WAIT_MS / 1000} s`, err);
    }
  }

  /** The records and their history rows in one transaction, taken for writing at once (a second writer waits). */
  private write(batch: LedgerBatch): void {
    this.writer ??= new SqliteWriter(this.db);
    const writer = this.writer;
    try {
      this.writeTransaction(() => writer.write(batch));
    } catch (err) {
      throw tamperedWrite(err, this.file);
    }
  }

  private readDeployments(f: DeploymentFilter): DeploymentEvent[] {
    const { where, params } = conditions(f, 'started');
    for (const [key, column] of [
      ['status', 'status'],
      ['type', 'type'],
      ['id', 'id'],
      ['parentId', 'parent_id'],
    ] as const) {
      if (f[key]) {
        where.push(`${column} = @${key}`);
        params[key] = f[key];
      }
    }
    const rows = this.db
      .prepare(`SELECT * FROM deployments ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY started DESC, id LIMIT @limit`)
      .all({ ...params, limit: f.limit ?? -1 }) as DeploymentRow[];
    return rows.map(deploymentOf);
  }

  private readRollbacks(f: RollbackFilter): RollbackEvent[] {
    const { where, params } = conditions(f, 'at');
    if (f.deploymentId) {
      where.push('deployment_id = @deploymentId');
      params['deploymentId'] = f.deploymentId;
    }
    const rows = this.db
      .prepare(
        `SELECT ${ROLLBACK_COLUMNS} FROM rollbacks
         ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY at DESC, id LIMIT @limit`,
      )
      .all({ ...params, limit: f.limit ?? -1 }) as RollbackEvent[];
    return rows.map(rollbackOf);
  }
}

function conditions(f: RollbackFilter, timeColumn: string): { where: string[]; params: Record<string, unknown> } {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  for (const key of ['stack', 'service'] as const) {
    if (f[key]) {
      where.push(`${key} = @${key}`);
      params[key] = f[key];
    }
  }
  if (f.environment) {
    // The environment and its regions (`prod/eu-west-1` is in `prod`).
    where.push(`(environment = @environment OR environment LIKE @environmentRegions)`);
    params['environment'] = f.environment;
    params['environmentRegions'] = `${f.environment}/%`;
  }
  if (f.since) {
    where.push(`${timeColumn} >= @since`);
    params['since'] = f.since;
  }
  if (f.until) {
    where.push(`${timeColumn} <= @until`);
    params['until'] = f.until;
  }
  return { where, params };
}

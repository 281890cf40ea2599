/**
 * The ledger in PostgreSQL (issue 13: "a team shares one PostgreSQL ledger across every CI
 * runner"), when DEPLOY_LEDGER_DB is a `postgres://` URL: the tables and migrations of the SQLite
 * ledger, a pool of a few connections, each write one transaction that appends to the audit
 * history under the chain head's row lock. The schema is brought up to date on first use; a
 * server that cannot be reached is a LedgerUnavailableError naming it, never its password.
 */
import { createRequire } from 'node:module';
import type pg from 'pg';
import { LedgerUnavailableError, MachineFaultError } from '../errors.js';
import { ChainVerifier, tamperedWrite, type ChainVerification } from './chain.js';
import { MIGRATIONS, refuseNewer } from './migrations.js';
import { countFromAggregates, sampleSummary } from './aggregate-reads.js';
import { recountAggregates, revisionOf } from './aggregate-recount.js';
import { migratePostgres, writePostgresBatch } from './postgres-history.js';
import { verifyHistory, verifyRecordsById } from './verify-steps.js';
import { runPostgres } from './sql-steps.js';
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
import { orderedTypes, REGISTER_TYPE_SQL, refuseTypeName } from './types.js';
import { DRIFT_TYPE } from './store.js';
import type { AccessStore } from './access.js';
import { PostgresAccess } from './access-postgres.js';
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

/** `url` without its password, to name the ledger in messages and logs. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(an unreadable URL)';
  }
}

/** Connection failures and refusals that are the environment's, by Node's or PostgreSQL's code. */
const UNAVAILABLE: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused (is the server running?)',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be resolved',
  ETIMEDOUT: 'the connection timed out',
  ECONNRESET: 'the server closed the connection',
  EHOSTUNREACH: 'the host is unreachable',
  '28P01': 'the password was refused',
  '28000': 'the server refused the user',
  '3D000': 'the database does not exist',
  '57P03': 'the server is starting up or shutting down',
  '53300': 'the server has too many connections',
};

/** LedgerStore over a PostgreSQL database, migrated on first use. */
export class PostgresLedger implements LedgerStore {
  private readonly pool: pg.Pool;
  private readonly where: string;
  private readonly ready: Promise<void>;
  private closed = false;
  private accessStore: PostgresAccess | undefined;

  constructor(url: string, poolSize = 4) {
    this.where = redactedUrl(url);
    // pg is loaded only for a PostgreSQL ledger (it is CommonJS: required synchronously).
    const { Pool } = createRequire(import.meta.url)('pg') as typeof pg;
    this.pool = new Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 10_000 });
    // An idle connection the server dropped: the next query reports it; this one must not crash the process.
    this.pool.on('error', () => undefined);
    this.ready = this.transaction((c) =>
      migratePostgres(c, MIGRATIONS, (version, latest) => refuseNewer(version, latest, this.where)).then(() => undefined),
    );
    this.ready.catch(() => undefined); // each method awaits it and reports its failure
  }

  async recordDeployment(e: DeploymentEvent): Promise<void> {
    await this.recordMany({ deployments: [e] });
  }

  async recordRollback(e: RollbackEvent): Promise<void> {
    await this.recordMany({ rollbacks: [e] });
  }

  async recordMany(batch: LedgerBatch): Promise<void> {
    await this.use(() => this.transaction((c) => writePostgresBatch(c, batch))).catch((err: unknown) => {
      throw tamperedWrite(err, this.where);
    });
  }

  async listDeployments(f: DeploymentFilter = {}): Promise<DeploymentEvent[]> {
    const q = conditions(f, 'started', [
      ['status', f.status],
      ['type', f.type],
      ['id', f.id],
      ['parent_id', f.parentId],
    ]);
    const rows = await this.query<DeploymentRow>(`SELECT * FROM deployments ${q.where} ORDER BY started DESC, id LIMIT ${q.next()}`, [
      ...q.params,
      f.limit ?? null,
    ]);
    return rows.map(deploymentOf);
  }

  async listRollbacks(f: RollbackFilter = {}): Promise<RollbackEvent[]> {
    const q = conditions(f, 'at', [['deployment_id', f.deploymentId]]);
    const rows = await this.query<RollbackEvent>(
      `SELECT ${ROLLBACK_COLUMNS} FROM rollbacks ${q.where} ORDER BY at DESC, id LIMIT ${q.next()}`,
      [...q.params, f.limit ?? null],
    );
    return rows.map(rollbackOf);
  }

  async verify(): Promise<ChainVerification> {
    // One snapshot: rows appended while it reads are not half seen.
    return this.use(() =>
      this.transaction(async (c) => {
        const verifier = new ChainVerifier();
        await runPostgres(c, verifyHistory(verifier));
        await runPostgres(c, verifyRecordsById(verifier, 'deployment'));
        await runPostgres(c, verifyRecordsById(verifier, 'rollback'));
        return verifier.result();
      }, SNAPSHOT),
    );
  }

  async recountAggregates(options: { keep: boolean }): Promise<AggregateDifference[]> {
    const work = async (c: pg.PoolClient): Promise<AggregateDifference[]> => {
      // Writers take the chain's head first: none writes while the aggregates are counted again.
      await c.query('SELECT rows FROM ledger_head WHERE id = 1 FOR UPDATE');
      return runPostgres(c, recountAggregates());
    };
    return this.use(() => this.transaction(work, 'BEGIN', options.keep ? 'COMMIT' : 'ROLLBACK'));
  }

  async registerType(name: string, description: string): Promise<void> {
    refuseTypeName(name);
    await this.query(REGISTER_TYPE_SQL, [name, description]);
  }

  async deploymentTypes(): Promise<DeploymentTypeInfo[]> {
    const rows = await this.query<{ name: string; description: string; builtin: number }>(
      `SELECT name, description, builtin FROM deployment_types WHERE name <> '${DRIFT_TYPE}'`,
      [],
    );
    return orderedTypes(rows.map(typeInfo));
  }

  async recordChanges(changes: readonly ChangeEvent[]): Promise<number> {
    if (changes.length === 0) return 0;
    const [row] = await this.query<{ added: number }>(
      `WITH added AS (
         INSERT INTO changes (repo, commit_sha, committed_at, recorded_at, shipped_by)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
         ON CONFLICT (repo, commit_sha) DO NOTHING RETURNING 1)
       SELECT CAST(COUNT(*) AS INTEGER) AS added FROM added`,
      [
        changes.map((c) => c.repo),
        changes.map((c) => c.commit),
        changes.map((c) => c.committedAt),
        changes.map((c) => c.recordedAt),
        changes.map((c) => c.shippedBy),
      ],
    );
    return row!.added;
  }

  async pendingChanges(repo: string): Promise<ChangeEvent[]> {
    return this.query<ChangeEvent>(
      `SELECT ${CHANGE_COLUMNS} FROM changes WHERE repo = $1 AND shipped_by IS NULL ORDER BY committed_at, commit_sha`,
      [repo],
    );
  }

  async shipChanges(repo: string, commits: readonly string[], runId: string): Promise<void> {
    await this.query('UPDATE changes SET shipped_by = $1 WHERE repo = $2 AND commit_sha = ANY($3::text[]) AND shipped_by IS NULL', [
      runId,
      repo,
      [...commits],
    ]);
  }

  async listForMetrics(f: Omit<CountFilter, 'until' | 'groupBy'>): Promise<DeploymentEvent[]> {
    const { sql, params } = metricRowsQuery(f, (i) => `$${i + 1}`, {
      changes: `(metadata::jsonb) -> 'changes'`,
      commitTime: `(metadata::jsonb) ->> 'commit_time'`,
    });
    return (await this.query<MetricRow>(sql, params)).map(metricDeploymentOf);
  }

  async countDeployments(f: CountFilter): Promise<StatusCount[]> {
    return this.use(() => this.transaction((c) => runPostgres(c, countFromAggregates(f)), SNAPSHOT));
  }

  async sampleMedian(f: SampleFilter): Promise<SampleSummary> {
    return this.use(() => this.transaction((c) => runPostgres(c, sampleSummary(f)), SNAPSHOT));
  }

  async deploymentTotals(bucketsSeconds: readonly number[]): Promise<DeploymentTotals[]> {
    return this.use(() => this.transaction((c) => runPostgres(c, deploymentTotalsSql(bucketsSeconds))));
  }

  async rollbackTotals(): Promise<RollbackTotals[]> {
    return this.use(() => this.transaction((c) => runPostgres(c, rollbackTotalsSql())));
  }

  /** On the ledger's pool, after its migrations, its failures said as the ledger's are. */
  access(): AccessStore {
    return (this.accessStore ??= new PostgresAccess((sql, params) => this.use(() => this.pool.query(sql, params))));
  }

  async revision(): Promise<string> {
    const [head] = await this.query<{ rows: number; hash: string; recounts: number }>(
      'SELECT rows, hash, recounts FROM ledger_head WHERE id = 1',
      [],
    );
    return head ? revisionOf(head) : 'no head';
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ready.catch(() => undefined);
    await this.pool.end();
  }

  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    return this.use(async () => (await this.pool.query<R>(sql, params)).rows);
  }

  private async use<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Error(`the ledger at ${this.where} is closed`);
    await this.ready.catch((err: unknown) => {
      throw this.failure(err);
    });
    return work().catch((err: unknown) => {
      throw this.failure(err);
    });
  }

  /**
   * `work` in one transaction (`begin` opens it: a read of several statements sees one snapshot
   * with SNAPSHOT; `end` closes it: ROLLBACK for work whose changes are not kept).
   */
  private async transaction<T>(work: (c: pg.PoolClient) => Promise<T>, begin = 'BEGIN', end: 'COMMIT' | 'ROLLBACK' = 'COMMIT'): Promise<T> {
    const client = await this.pool.connect().catch((err: unknown) => {
      throw this.failure(err);
    });
    try {
      await client.query(begin);
      const result = await work(client);
      await client.query(end);
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** The environment's failures said as such; anything else as it came. */
  private failure(err: unknown): unknown {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code !== 'string') return err;
    if (code === '53100') return new MachineFaultError('ENOSPC', 'the ledger server cannot write', this.where, err);
    const reason = UNAVAILABLE[code];
    return reason ? new LedgerUnavailableError(this.where, reason, err) : err;
  }
}

/** A read of several statements that must agree (the bins, then the samples of one of them): one snapshot throughout. */
const SNAPSHOT = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';

/** The WHERE clause of a list and its parameters ($1, $2 ...); `next()` numbers one more parameter. */
/** The WHERE of a list: the filter's stack, service, environment and times, and each `exact` column that has a value. */
function conditions(
  f: RollbackFilter,
  timeColumn: string,
  exact: readonly (readonly [string, string | undefined])[],
): { where: string; params: unknown[]; next: () => string } {
  const where: string[] = [];
  const params: unknown[] = [];
  const next = (): string => `$${params.length + 1}`;
  const add = (clause: (p: string) => string, value: unknown): void => {
    where.push(clause(next()));
    params.push(value);
  };
  for (const key of ['stack', 'service'] as const) {
    const value = f[key];
    if (value) add((p) => `${key} = ${p}`, value);
  }
  // The environment and its regions (`prod/eu-west-1` is in `prod`).
  if (f.environment) add((p) => `(environment = ${p} OR environment LIKE ${p} || '/%')`, f.environment);
  for (const [column, value] of exact) if (value) add((p) => `${column} = ${p}`, value);
  if (f.since) add((p) => `${timeColumn} >= ${p}`, f.since);
  if (f.until) add((p) => `${timeColumn} <= ${p}`, f.until);
  return { where: where.length ? `WHERE ${where.join(' AND ')}` : '', params, next };
}

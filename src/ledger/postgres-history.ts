/**
 * The PostgreSQL ledger's schema versioning and audit history: the migrations of migrations.ts
 * applied under an advisory lock (so CI runners opening one new ledger at once apply each once),
 * the version in `ledger_schema`, and the chained rows of chain.ts appended in each write's
 * transaction. Writers take the chain's head row FOR UPDATE first, so they append one at a time.
 */
import type pg from 'pg';
import { appendRow, type ChainHead, type ChainRow, type RecordKind } from './chain.js';
import type { Migration } from './migrations.js';
import { AggregateDeltas, storeDeltas, updateAggregates } from './aggregate-writes.js';
import { deploymentOf, distinctChunks, rollbackOf, ROLLBACK_COLUMNS, ROLLBACK_COLUMNS_V1, type DeploymentRow } from './rows.js';
import { runPostgres } from './sql-steps.js';
import type { LedgerBatch, RollbackEvent } from './store.js';

/** Any key, the same in every deployer: the lock of schema changes ("dlgr" in ASCII). */
const MIGRATION_LOCK = 0x646c6772;

/**
 * Brings the database to the last of `migrations`; returns the versions it applied. Each runs
 * in one transaction with its version bump, under the lock; a newer database is refused by
 * `refuseNewer(version, latest)` before anything changes.
 */
export async function migratePostgres(
  client: pg.ClientBase,
  migrations: readonly Migration[],
  refuseNewer: (version: number, latest: number) => void,
): Promise<number[]> {
  const latest = migrations.at(-1)?.version ?? 0;
  const applied: number[] = [];
  for (const m of [undefined, ...migrations]) {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS ledger_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)');
      const { rows } = await client.query<{ version: number }>('SELECT version FROM ledger_schema WHERE id = 1');
      const version = rows[0]?.version ?? 0;
      if (m === undefined) refuseNewer(version, latest);
      else if (version < m.version) {
        await client.query(m.postgres);
        await m.afterPostgres?.(client);
        await client.query(
          'INSERT INTO ledger_schema (id, version) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = excluded.version',
          [m.version],
        );
        applied.push(m.version);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
  return applied;
}

/** Locks the chain's head for this transaction (the next writer waits for its commit) and returns it. */
async function lockHead(client: pg.ClientBase): Promise<ChainHead> {
  const { rows } = await client.query<ChainHead>('SELECT rows, hash FROM ledger_head WHERE id = 1 FOR UPDATE');
  return rows[0]!;
}

/**
 * Writes `batch` in the caller's transaction: the chain's head locked first (the next writer
 * waits for this commit), then a chunk at a time, each chunk's records upserted by one
 * statement and their history rows inserted by another, then the aggregates brought up to date
 * with what the chunk changed (not before migration 7 made them: `aggregates: false`), then the head stored once.
 */
export async function writePostgresBatch(client: pg.ClientBase, batch: LedgerBatch, aggregates = true): Promise<void> {
  let head = await lockHead(client);
  const deltas = new AggregateDeltas();
  for (const chunk of distinctChunks(batch.deployments ?? [])) {
    const before = aggregates
      ? await recordsById<DeploymentRow>(client, 'SELECT * FROM deployments', chunk)
      : new Map<string, DeploymentRow>();
    const { rows } = await client.query<DeploymentRow>(
      `INSERT INTO deployments (id, stack, service, version, environment, type, started, completed, status, initiator, metadata, parent_id, operation)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
       ON CONFLICT (id) DO UPDATE SET version = excluded.version, completed = excluded.completed, status = excluded.status, metadata = excluded.metadata
       RETURNING *`,
      columns(chunk, [
        (e) => e.id,
        (e) => e.stack,
        (e) => e.service,
        (e) => e.version,
        (e) => e.environment,
        (e) => e.type,
        (e) => e.started,
        (e) => e.completed,
        (e) => e.status,
        (e) => e.initiator,
        (e) => JSON.stringify(e.metadata),
        (e) => e.parentId,
        (e) => e.operation ?? 'deploy',
      ]),
    );
    const now = new Map(rows.map((r) => [r.id, deploymentOf(r)]));
    const after = chunk.map((e) => now.get(e.id)!);
    head = await appendRows(
      client,
      head,
      'deployment',
      after.map((d) => ({ id: d.id, record: d, at: d.completed ?? d.started })),
    );
    if (aggregates) {
      const written = after.map((d) => ({ before: maybe(before.get(d.id), deploymentOf), after: d }));
      await runPostgres(client, updateAggregates({ deployments: written, rollbacks: [] }, deltas));
    }
  }
  for (const chunk of distinctChunks(batch.rollbacks ?? [])) {
    const before = aggregates
      ? await recordsById<RollbackEvent>(client, `SELECT ${ROLLBACK_COLUMNS} FROM rollbacks`, chunk)
      : new Map<string, RollbackEvent>();
    const { rows } = await client.query<RollbackEvent>(
      `INSERT INTO rollbacks (id, stack, service, environment, from_version, to_version, reason, at, deployment_id)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
       ON CONFLICT (id) DO UPDATE SET stack = excluded.stack, service = excluded.service, environment = excluded.environment,
         from_version = excluded.from_version, to_version = excluded.to_version, reason = excluded.reason, at = excluded.at,
         deployment_id = excluded.deployment_id
       RETURNING ${ROLLBACK_COLUMNS}`,
      columns(chunk, [
        (e) => e.id,
        (e) => e.stack,
        (e) => e.service,
        (e) => e.environment,
        (e) => e.fromVersion,
        (e) => e.toVersion,
        (e) => e.reason,
        (e) => e.at,
        (e) => e.deploymentId ?? null,
      ]),
    );
    const now = new Map(rows.map((r) => [r.id, rollbackOf(r)]));
    const after = chunk.map((e) => now.get(e.id)!);
    head = await appendRows(
      client,
      head,
      'rollback',
      after.map((r) => ({ id: r.id, record: r, at: r.at })),
    );
    if (aggregates) {
      const written = after.map((r) => ({ before: maybe(before.get(r.id), rollbackOf), after: r }));
      await runPostgres(client, updateAggregates({ deployments: [], rollbacks: written }, deltas));
    }
  }
  if (aggregates) await runPostgres(client, storeDeltas(deltas));
  await client.query('UPDATE ledger_head SET rows = $1, hash = $2 WHERE id = 1', [head.rows, head.hash]);
}

/** The rows `select` names of the records of `chunk` (by id), as they are before the chunk is written. */
async function recordsById<R extends { id: string }>(
  client: pg.ClientBase,
  selectFrom: string,
  chunk: ReadonlyArray<{ id: string }>,
): Promise<Map<string, R>> {
  const { rows } = await client.query<R>(`${selectFrom} WHERE id = ANY($1::text[])`, [chunk.map((e) => e.id)]);
  return new Map(rows.map((r) => [r.id, r]));
}

const maybe = <T, U>(value: T | undefined, f: (v: T) => U): U | undefined => (value === undefined ? undefined : f(value));

/** The arrays of one multi-row statement: a column per getter. */
function columns<T>(records: readonly T[], getters: ReadonlyArray<(r: T) => unknown>): unknown[][] {
  return getters.map((get) => records.map(get));
}

/** Appends the history rows of a chunk of distinct records after `head`; returns the new head (not yet stored). */
async function appendRows(
  client: pg.ClientBase,
  head: ChainHead,
  kind: RecordKind,
  written: ReadonlyArray<{ id: string; record: unknown; at: string }>,
): Promise<ChainHead> {
  const { rows } = await client.query<{ recordId: string; revision: number }>(
    `SELECT record_id AS "recordId", MAX(revision) AS revision FROM ledger_rows WHERE kind = $1 AND record_id = ANY($2::text[]) GROUP BY record_id`,
    [kind, written.map((w) => w.id)],
  );
  const last = new Map(rows.map((r) => [r.recordId, r.revision]));
  const appended: ChainRow[] = [];
  for (const w of written) {
    const row = appendRow(head, { kind, recordId: w.id, revision: (last.get(w.id) ?? 0) + 1, record: w.record, recordedAt: w.at });
    appended.push(row);
    head = { rows: row.seq, hash: row.hash };
  }
  await client.query(
    `INSERT INTO ledger_rows (seq, kind, record_id, revision, body, recorded_at, prev_hash, hash)
     SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[])`,
    columns(appended, [
      (r) => r.seq,
      (r) => r.kind,
      (r) => r.recordId,
      (r) => r.revision,
      (r) => r.body,
      (r) => r.recordedAt,
      (r) => r.prevHash,
      (r) => r.hash,
    ]),
  );
  return head;
}

/** Migration 2 in PostgreSQL: what was recorded before the history existed becomes its first rows. */
export async function backfillPostgresHistory(client: pg.ClientBase): Promise<void> {
  const deployments = await client.query<DeploymentRow>('SELECT * FROM deployments ORDER BY started, id');
  // Columns as they are at migration 2. (Every PostgreSQL ledger began empty at a later version: nothing is there to backfill.)
  const rollbacks = await client.query<RollbackEvent>(`SELECT ${ROLLBACK_COLUMNS_V1} FROM rollbacks ORDER BY at, id`);
  // Written again as they are: each upsert changes nothing and appends the record's first row.
  await writePostgresBatch(client, { deployments: deployments.rows.map(deploymentOf), rollbacks: rollbacks.rows }, false);
}

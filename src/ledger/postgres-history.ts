/**
 * The PostgreSQL ledger's schema versioning and audit history: the migrations of migrations.ts
 * applied under an advisory lock (so CI runners opening one new ledger at once apply each once),
 * the version in `ledger_schema`, and the chained rows of chain.ts appended in each write's
 * transaction. Writers take the chain's head row FOR UPDATE first, so they append one at a time.
 */
import type pg from 'pg';
import { appendRow, type ChainHead, type ChainRow, type RecordKind } from './chain.js';
import type { Migration } from './migrations.js';
import { deploymentOf, ROLLBACK_COLUMNS, type DeploymentRow } from './rows.js';
import type { RollbackEvent } from './store.js';

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
export async function lockHead(client: pg.ClientBase): Promise<ChainHead> {
  const { rows } = await client.query<ChainHead>('SELECT rows, hash FROM ledger_head WHERE id = 1 FOR UPDATE');
  return rows[0]!;
}

/** Appends the row of one write after `head` (locked by `lockHead` in this transaction); returns the new head. */
export async function appendPostgresHistory(
  client: pg.ClientBase,
  head: ChainHead,
  kind: RecordKind,
  recordId: string,
  record: unknown,
  recordedAt: string,
): Promise<ChainHead> {
  const { rows } = await client.query<{ revision: number | null }>(
    'SELECT MAX(revision) AS revision FROM ledger_rows WHERE kind = $1 AND record_id = $2',
    [kind, recordId],
  );
  const row = appendRow(head, { kind, recordId, revision: (rows[0]?.revision ?? 0) + 1, record, recordedAt });
  await client.query(
    `INSERT INTO ledger_rows (seq, kind, record_id, revision, body, recorded_at, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [row.seq, row.kind, row.recordId, row.revision, row.body, row.recordedAt, row.prevHash, row.hash],
  );
  await client.query('UPDATE ledger_head SET rows = $1, hash = $2 WHERE id = 1', [row.seq, row.hash]);
  return { rows: row.seq, hash: row.hash };
}

/** The whole history in the order it was written, and its head (undefined if the head row is gone). */
export async function readPostgresHistory(client: pg.ClientBase): Promise<{ rows: ChainRow[]; head: ChainHead | undefined }> {
  const { rows } = await client.query<ChainRow>(
    `SELECT seq, kind, record_id AS "recordId", revision, body, recorded_at AS "recordedAt", prev_hash AS "prevHash", hash
     FROM ledger_rows ORDER BY seq`,
  );
  const head = await client.query<ChainHead>('SELECT rows, hash FROM ledger_head WHERE id = 1');
  return { rows, head: head.rows[0] };
}

/** Migration 2 in PostgreSQL: what was recorded before the history existed becomes its first rows. */
export async function backfillPostgresHistory(client: pg.ClientBase): Promise<void> {
  let head = await lockHead(client);
  const deployments = await client.query<DeploymentRow>('SELECT * FROM deployments ORDER BY started, id');
  for (const d of deployments.rows.map(deploymentOf))
    head = await appendPostgresHistory(client, head, 'deployment', d.id, d, d.completed ?? d.started);
  const rollbacks = await client.query<RollbackEvent>(`SELECT ${ROLLBACK_COLUMNS} FROM rollbacks ORDER BY at, id`);
  for (const r of rollbacks.rows) head = await appendPostgresHistory(client, head, 'rollback', r.id, r, r.at);
}

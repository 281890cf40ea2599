/**
 * The SQLite ledger's audit history (chain.ts): the `ledger_rows` table, appended to in the
 * transaction of every write and never changed, and `ledger_head`, the chain's end.
 */
import type Database from 'better-sqlite3';
import { appendRow, GENESIS, type ChainHead, type RecordKind } from './chain.js';
import { AggregateDeltas, storeDeltas, updateAggregates } from './aggregate-writes.js';
import { deploymentOf, distinctChunks, rollbackOf, ROLLBACK_COLUMNS, ROLLBACK_COLUMNS_V1, type DeploymentRow } from './rows.js';
import { runSqlite } from './sql-steps.js';
import type { DeploymentEvent, LedgerBatch, RollbackEvent } from './store.js';

/** Migration 2: the history and its head (the backfill of what was recorded before is `backfillHistory`). */
export const HISTORY_SQL = `
CREATE TABLE ledger_rows (
  seq INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('deployment','rollback')),
  record_id TEXT NOT NULL,
  revision INTEGER NOT NULL,
  body TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  UNIQUE (kind, record_id, revision)
);
CREATE TABLE ledger_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  rows INTEGER NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO ledger_head (id, rows, hash) VALUES (1, 0, '${GENESIS}');
`;

/**
 * The writes of the SQLite ledger, its statements prepared once (after the migrations): each
 * record upserted into its table and appended to the history, the chain's head read once and
 * written once per call. Call it inside the write's transaction.
 */
export class SqliteWriter {
  // Prepared on first write: the backfill of migration 2 appends rows before later migrations add the columns these name.
  private upserts: Record<'deployment' | 'rollback' | 'deploymentById' | 'rollbackById', Database.Statement> | undefined;
  private readonly readHead: Database.Statement;
  private readonly writeHead: Database.Statement;
  private readonly lastRevision: Database.Statement;
  private readonly insertRow: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.readHead = db.prepare('SELECT rows, hash FROM ledger_head WHERE id = 1');
    this.writeHead = db.prepare('UPDATE ledger_head SET rows = @rows, hash = @hash WHERE id = 1');
    this.lastRevision = db.prepare('SELECT MAX(revision) AS revision FROM ledger_rows WHERE kind = ? AND record_id = ?');
    this.insertRow = db.prepare(
      `INSERT INTO ledger_rows (seq, kind, record_id, revision, body, recorded_at, prev_hash, hash)
       VALUES (@seq, @kind, @recordId, @revision, @body, @recordedAt, @prevHash, @hash)`,
    );
  }

  private prepareUpserts(): NonNullable<SqliteWriter['upserts']> {
    const deployment = this.db.prepare(
      `INSERT INTO deployments (id, stack, service, version, environment, type, started, completed, status, initiator, metadata, parent_id, operation)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET version=excluded.version, completed=excluded.completed, status=excluded.status, metadata=excluded.metadata`,
    );
    const rollback = this.db.prepare(
      `INSERT INTO rollbacks (id, stack, service, environment, from_version, to_version, reason, at, deployment_id)
       VALUES (@id, @stack, @service, @environment, @fromVersion, @toVersion, @reason, @at, @deploymentId)
       ON CONFLICT(id) DO UPDATE SET stack=excluded.stack, service=excluded.service, environment=excluded.environment,
         from_version=excluded.from_version, to_version=excluded.to_version, reason=excluded.reason, at=excluded.at,
         deployment_id=excluded.deployment_id
       RETURNING ${ROLLBACK_COLUMNS}`,
    );
    // A chunk's records looked up at once (ids as one JSON array): a query per record cost more than its upsert.
    const deploymentById = this.db.prepare('SELECT * FROM deployments WHERE id IN (SELECT value FROM json_each(?))');
    const rollbackById = this.db.prepare(`SELECT ${ROLLBACK_COLUMNS} FROM rollbacks WHERE id IN (SELECT value FROM json_each(?))`);
    return { deployment, rollback, deploymentById, rollbackById };
  }

  /**
   * Upserts each record and appends what it now is to the history, a chunk at a time; after each
   * chunk the aggregates (aggregate-writes.ts) are brought up to date with what it changed.
   */
  write(batch: LedgerBatch): void {
    this.upserts ??= this.prepareUpserts();
    const { deployment, rollback, deploymentById, rollbackById } = this.upserts;
    let head = this.head();
    const deltas = new AggregateDeltas();
    for (const chunk of distinctChunks(batch.deployments ?? [])) {
      const existing = byId(deploymentById.all(JSON.stringify(chunk.map((e) => e.id))) as DeploymentRow[]);
      const written = chunk.map((e) => {
        const was = existing.get(e.id);
        const metadata = JSON.stringify(e.metadata);
        // Positional parameters: binding them by name from a copy of the event cost more than the insert of a small row.
        deployment.run(
          e.id,
          e.stack,
          e.service,
          e.version,
          e.environment,
          e.type,
          e.started,
          // Absent (from an untyped caller) is stored, and recorded in the history, as null.
          e.completed ?? null,
          e.status,
          e.initiator,
          metadata,
          e.parentId ?? null,
          e.operation ?? 'deploy',
        );
        const now = deploymentOf(rowAfterUpsert(was, e, metadata));
        head = this.append(head, 'deployment', now.id, now, now.completed ?? now.started, was === undefined);
        return { before: was && deploymentOf(was), after: now };
      });
      runSqlite(this.db, updateAggregates({ deployments: written, rollbacks: [] }, deltas));
    }
    for (const chunk of distinctChunks(batch.rollbacks ?? [])) {
      const existing = byId(rollbackById.all(JSON.stringify(chunk.map((e) => e.id))) as RollbackEvent[]);
      const written = chunk.map((e) => {
        const was = existing.get(e.id);
        const now = rollbackOf(rollback.get({ ...e, deploymentId: e.deploymentId ?? null }) as RollbackEvent);
        head = this.append(head, 'rollback', now.id, now, now.at, was === undefined);
        return { before: was && rollbackOf(was), after: now };
      });
      runSqlite(this.db, updateAggregates({ deployments: [], rollbacks: written }, deltas));
    }
    runSqlite(this.db, storeDeltas(deltas));
    this.writeHead.run(head);
  }

  head(): ChainHead {
    return this.readHead.get() as ChainHead;
  }

  /**
   * Appends the row of one write (`record` as the write left it) after `head`; returns the new
   * head (not yet stored). `isNew`: the record was not in its table, so this is its first row
   * (if its record was removed behind the ledger's back, the history's uniqueness refuses it).
   */
  append(head: ChainHead, kind: RecordKind, recordId: string, record: unknown, recordedAt: string, isNew = false): ChainHead {
    const revision = isNew ? 1 : this.nextRevision(kind, recordId);
    const row = appendRow(head, { kind, recordId, revision, record, recordedAt });
    this.insertRow.run(row);
    return { rows: row.seq, hash: row.hash };
  }

  private nextRevision(kind: RecordKind, recordId: string): number {
    const last = this.lastRevision.get(kind, recordId) as { revision: number | null };
    return (last.revision ?? 0) + 1;
  }

  /** Stores the head `append` returned last. */
  storeHead(head: ChainHead): void {
    this.writeHead.run(head);
  }
}

/** Rows by their id. */
function byId<T extends { id: string }>(rows: readonly T[]): Map<string, T> {
  return new Map(rows.map((r) => [r.id, r]));
}

/** The row the upsert left (what it keeps of `was`, what it takes of `e`), without reading it back. */
function rowAfterUpsert(was: DeploymentRow | undefined, e: DeploymentEvent, metadata: string): DeploymentRow {
  if (was) return { ...was, version: e.version, completed: e.completed ?? null, status: e.status, metadata };
  const { id, stack, service, version, environment, type, started, status, initiator } = e;
  const completed = e.completed ?? null;
  return {
    id,
    stack,
    service,
    version,
    environment,
    type,
    started,
    completed,
    status,
    initiator,
    metadata,
    parent_id: e.parentId ?? null,
    operation: e.operation ?? 'deploy',
  };
}

/** What was recorded before the history existed becomes its first rows (revision 1 each, oldest first). */
export function backfillHistory(db: Database.Database): void {
  const writer = new SqliteWriter(db);
  let head = writer.head();
  const deployments = (db.prepare('SELECT * FROM deployments ORDER BY started, id').all() as DeploymentRow[]).map(deploymentOf);
  for (const d of deployments) head = writer.append(head, 'deployment', d.id, d, d.completed ?? d.started);
  const rollbacks = db.prepare(`SELECT ${ROLLBACK_COLUMNS_V1} FROM rollbacks ORDER BY at, id`).all() as RollbackEvent[];
  for (const r of rollbacks) head = writer.append(head, 'rollback', r.id, r, r.at);
  writer.storeHead(head);
}

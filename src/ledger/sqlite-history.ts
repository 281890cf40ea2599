/**
 * The SQLite ledger's audit history (chain.ts): the `ledger_rows` table, appended to in the
 * transaction of every write and never changed, and `ledger_head`, the chain's end.
 */
import type Database from 'better-sqlite3';
import { appendRow, GENESIS, type ChainHead, type ChainRow, type RecordKind } from './chain.js';
import { deploymentOf, ROLLBACK_COLUMNS, type DeploymentRow } from './rows.js';
import type { RollbackEvent } from './store.js';

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

/** Appends the row of one write (`record` as the write left it); call inside the write's transaction. */
export function appendHistory(db: Database.Database, kind: RecordKind, recordId: string, record: unknown, recordedAt: string): void {
  const head = db.prepare('SELECT rows, hash FROM ledger_head WHERE id = 1').get() as ChainHead;
  const last = db.prepare('SELECT MAX(revision) AS revision FROM ledger_rows WHERE kind = ? AND record_id = ?').get(kind, recordId) as {
    revision: number | null;
  };
  const row = appendRow(head, { kind, recordId, revision: (last.revision ?? 0) + 1, record, recordedAt });
  db.prepare(
    `INSERT INTO ledger_rows (seq, kind, record_id, revision, body, recorded_at, prev_hash, hash)
     VALUES (@seq, @kind, @recordId, @revision, @body, @recordedAt, @prevHash, @hash)`,
  ).run(row);
  db.prepare('UPDATE ledger_head SET rows = ?, hash = ? WHERE id = 1').run(row.seq, row.hash);
}

/** The whole history in the order it was written, and its head (undefined if the head row is gone). */
export function readHistory(db: Database.Database): { rows: ChainRow[]; head: ChainHead | undefined } {
  const rows = db
    .prepare(
      `SELECT seq, kind, record_id AS recordId, revision, body, recorded_at AS recordedAt, prev_hash AS prevHash, hash
       FROM ledger_rows ORDER BY seq`,
    )
    .all() as ChainRow[];
  const head = db.prepare('SELECT rows, hash FROM ledger_head WHERE id = 1').get() as ChainHead | undefined;
  return { rows, head };
}

/** What was recorded before the history existed becomes its first rows (revision 1 each, oldest first). */
export function backfillHistory(db: Database.Database): void {
  const deployments = (db.prepare('SELECT * FROM deployments ORDER BY started, id').all() as DeploymentRow[]).map(deploymentOf);
  for (const d of deployments) appendHistory(db, 'deployment', d.id, d, d.completed ?? d.started);
  const rollbacks = db.prepare(`SELECT ${ROLLBACK_COLUMNS} FROM rollbacks ORDER BY at, id`).all() as RollbackEvent[];
  for (const r of rollbacks) appendHistory(db, 'rollback', r.id, r, r.at);
}

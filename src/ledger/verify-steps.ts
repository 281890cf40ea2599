/**
 * What `ledger verify` reads, written once for both SQL stores (sql-steps.ts): the history a
 * page at a time in the order it was written, then its head; and the current records a page at a
 * time by id. Each page goes to the ChainVerifier (chain.ts) and is let go, so a ledger of
 * millions of rows is never held at once. Run it in one snapshot (one transaction).
 */
import type { ChainHead, ChainRow, ChainVerifier, RecordKind } from './chain.js';
import { deploymentOf, rollbackOf, ROLLBACK_COLUMNS, type DeploymentRow } from './rows.js';
import { pageAfter, select, type SqlWork } from './sql-steps.js';
import type { RollbackEvent } from './store.js';

/** Rows read at a time. */
const VERIFY_PAGE = 5_000;

/** Feeds `verifier` the whole history from its lowest seq (a row put at 0 or below behind the ledger's back is read too), then its head. */
export function* verifyHistory(verifier: ChainVerifier): SqlWork<void> {
  for (let after: number | null = null; ;) {
    const page = pageAfter('seq', after);
    const rows: ChainRow[] = yield* select(
      `SELECT seq, kind, record_id AS "recordId", revision, body, recorded_at AS "recordedAt", prev_hash AS "prevHash", hash
       FROM ledger_rows WHERE ${page.where} ORDER BY seq LIMIT ${VERIFY_PAGE}`,
      page.params,
    );
    rows.forEach((row) => verifier.row(row));
    if (rows.length < VERIFY_PAGE) break;
    after = rows.at(-1)!.seq;
  }
  const [head] = yield* select<ChainHead>('SELECT rows, hash FROM ledger_head WHERE id = 1');
  verifier.head(head);
}

/** Feeds `verifier` every current record of `kind`, by id. */
export function* verifyRecordsById(verifier: ChainVerifier, kind: RecordKind): SqlWork<void> {
  const [table, columns] = kind === 'deployment' ? ['deployments', '*'] : ['rollbacks', ROLLBACK_COLUMNS];
  for (let after: string | null = null; ;) {
    const page = pageAfter('id', after);
    const rows: Array<DeploymentRow & RollbackEvent> = yield* select(
      `SELECT ${columns} FROM ${table} WHERE ${page.where} ORDER BY id LIMIT ${VERIFY_PAGE}`,
      page.params,
    );
    for (const row of rows) verifier.current(kind, kind === 'deployment' ? deploymentOf(row) : rollbackOf(row));
    if (rows.length < VERIFY_PAGE) break;
    after = rows.at(-1)!.id;
  }
}

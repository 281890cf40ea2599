/**
 * The ledger's audit history as a hash chain (issue 13: "an append-only audit history ... `ledger
 * verify` checks a hash chain over the rows"). Every write appends a row holding the record as
 * it now is (a status change is a new revision of the record, never an edit of the old row);
 * each row's hash covers its content and the hash of the row before it, and the head (the row
 * count and the last hash) is kept apart. So a row edited, removed or reordered behind the
 * ledger's back, or a current record that no longer says what its last row says, is found and
 * named. Pure functions: the stores keep the rows and call these.
 */
import { LedgerTamperedError } from '../errors.js';
import { canonicalJson, sha256 } from '../model/hash.js';

/** The hash before the first row. */
export const GENESIS = '0'.repeat(64);

export type RecordKind = 'deployment' | 'rollback';

/** One row of the audit history, as stored. */
export interface ChainRow {
  /** 1, 2, 3 ...: the order rows were appended in. */
  seq: number;
  kind: RecordKind;
  recordId: string;
  /** 1 for a record's first row, then one more for each later write of it. */
  revision: number;
  /** The record as this write left it (canonical JSON). */
  body: string;
  recordedAt: string;
  prevHash: string;
  hash: string;
}

/** The end of the chain: how many rows there are and the last one's hash. */
export interface ChainHead {
  rows: number;
  hash: string;
}

/** A row to append: what `appendRow` needs besides the head. */
export interface NewRow {
  kind: RecordKind;
  recordId: string;
  revision: number;
  record: unknown;
  recordedAt: string;
}

export function rowHash(row: Omit<ChainRow, 'hash'>): string {
  const content = [row.prevHash, row.seq, row.kind, row.recordId, row.revision, row.recordedAt, row.body].join('\n');
  return sha256(content);
}

/** The row that follows `head`, with its hash. */
export function appendRow(head: ChainHead, r: NewRow): ChainRow {
  const row = {
    seq: head.rows + 1,
    kind: r.kind,
    recordId: r.recordId,
    revision: r.revision,
    body: canonicalJson(r.record),
    recordedAt: r.recordedAt,
    prevHash: head.hash,
  };
  return { ...row, hash: rowHash(row) };
}

/** One thing `ledger verify` found wrong, naming the row or record. */
export interface ChainProblem {
  seq?: number;
  kind?: RecordKind;
  recordId?: string;
  message: string;
}

export interface ChainVerification {
  ok: boolean;
  rows: number;
  problems: ChainProblem[];
}

/** What the verifier keeps of a record's last row: enough to name it, and its body's hash (not the body). */
interface LastRow {
  seq: number;
  kind: RecordKind;
  recordId: string;
  bodyHash: string;
  /** What the current record says against it: not seen yet, the same, or otherwise. */
  current: 'unseen' | 'same' | 'changed';
}

/**
 * `ledger verify`, fed a row at a time: the history in seq order (`row`), its head (`head`),
 * then each current record (`current`). It keeps one hash per record, never the rows, so a
 * ledger of millions of rows is checked in bounded memory, read as it streams from the store.
 * At most `most` problems are listed.
 */
export class ChainVerifier {
  private readonly problems: ChainProblem[] = [];
  private readonly added: ChainProblem[] = [];
  private readonly last = new Map<string, LastRow>();
  private prev = GENESIS;
  private rows = 0;

  constructor(private readonly most = 50) {}

  private say(p: ChainProblem, to = this.problems): void {
    if (to.length < this.most) to.push(p);
  }

  /** The next row of the history (rows come in seq order). */
  row(row: ChainRow): void {
    const named = { seq: row.seq, kind: row.kind, recordId: row.recordId };
    this.rows += 1;
    if (row.seq !== this.rows)
      this.say({
        ...named,
        message: `row ${this.rows} is missing: the row after row ${this.rows - 1} is numbered ${row.seq} (${row.kind} ${row.recordId})`,
      });
    if (row.prevHash !== this.prev)
      this.say({
        ...named,
        message: `row ${row.seq} (${row.kind} ${row.recordId}) does not follow the row before it: a row before it was changed or removed`,
      });
    if (rowHash(row) !== row.hash)
      this.say({
        ...named,
        message: `row ${row.seq} (${row.kind} ${row.recordId}, revision ${row.revision}) was changed after it was written`,
      });
    this.prev = row.hash;
    // A record's later row takes the place of its first in the map: problems are named in the order records first appeared.
    this.last.set(`${row.kind} ${row.recordId}`, {
      seq: row.seq,
      kind: row.kind,
      recordId: row.recordId,
      bodyHash: sha256(row.body),
      current: 'unseen',
    });
  }

  /** The head the store keeps (undefined: its row is gone), after the last row. */
  head(head: ChainHead | undefined): void {
    if (head && (head.rows !== this.rows || head.hash !== this.prev)) {
      this.say({
        message: `the history ends at row ${this.rows}, but ${head.rows} rows were written: the last ${Math.max(1, head.rows - this.rows)} row(s) were removed or changed`,
      });
    }
  }

  /** A record the ledger holds now, as the store hands it out (compared as canonical JSON, as its rows were written). */
  current(kind: RecordKind, record: { id: string }): void {
    const recordId = record.id;
    const last = this.last.get(`${kind} ${recordId}`);
    if (last) last.current = sha256(canonicalJson(record)) === last.bodyHash ? 'same' : 'changed';
    else
      this.say(
        {
          kind,
          recordId,
          message: `${kind} ${recordId} is in the ledger but in no row of its history: it was added behind the ledger's back`,
        },
        this.added,
      );
  }

  /** What was found: the rows and head first, then each record against its last row, then records the history never had. */
  result(): ChainVerification {
    for (const [key, row] of this.last) {
      const named = { kind: row.kind, recordId: row.recordId };
      if (row.current === 'unseen')
        this.say({ ...named, message: `${key} is in the history (row ${row.seq}) but no longer in the ledger: it was removed` });
      else if (row.current === 'changed')
        this.say({ ...named, message: `${key} no longer says what its last write (row ${row.seq}) recorded: it was changed` });
    }
    for (const p of this.added) this.say(p);
    return { ok: this.problems.length === 0, rows: this.rows, problems: this.problems };
  }
}

/** The uniqueness violations of each database (SQLite's codes, PostgreSQL's SQLSTATE). */
const UNIQUENESS = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY', '23505']);

/**
 * A write the ledger's own keys refused, said as what it means: every write is an upsert that
 * keeps the records, their history and the aggregates in step, so a duplicate key is found only
 * when one of them was changed behind the ledger's back (a record removed, its history kept).
 * Anything else is returned as it came.
 */
export function tamperedWrite(err: unknown, where: string): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !UNIQUENESS.has(code)) return err;
  return new LedgerTamperedError(`cannot record in the ledger at ${where}: its tables no longer agree with each other`, [
    `The database refused a duplicate key (${(err as Error).message}): a record, its history or its aggregates were changed or removed behind the ledger's back.`,
    'Nothing was recorded. `deployer ledger verify` names what was changed; if it finds nothing, this is a bug in deployer: please report it with that output.',
  ]);
}

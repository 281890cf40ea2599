// The floor under the ledger's ingest (issue 13's goal: 1M events in < 30 s on SQLite): the rows
// an ingest left in its SQLite ledger, written again into an empty ledger of the same schema by
// better-sqlite3 alone, a batch at a time, with the ledger's own pragmas. No deployer code runs
// in the timed part: no canonical JSON or hashes, no aggregates computed, no record read before
// its write, every counter written once with its final value. What deployer's ingest takes
// above this is its own cost; this is what SQLite takes on this machine to keep those rows.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';

/** Each table in the order a batch writes it, and the order its rows were first written in. */
const TABLES = [
  ['deployments', 'rowid'],
  ['rollbacks', 'rowid'],
  ['ledger_rows', 'seq'],
  // Without a rowid: by time, as the ingest wrote them.
  ['metric_samples', 'started'],
  ['metric_bins', 'rowid'],
  // Without a rowid (migration 14): few rows, by key.
  ['metric_bins_all_services', 'metric, environment, month, bin'],
  ['metric_counts', 'rowid'],
  ['failures', 'rowid'],
  ['deployment_durations', 'rowid'],
];

/**
 * Tables the floor does not write again, and which of their rows it would have to: the types a
 * new ledger is made with are in the floor's own ledger already (a type the ingest registered
 * is not), and the chain's head is one row the ingest rewrites once a batch and the floor leaves alone.
 */
const NOT_REWRITTEN = { deployment_types: 'builtin = 0', ledger_head: '0 = 1' };

/** Refuses a source with rows in a table the floor would leave out (a table added to the ledger but not to TABLES). */
function refuseUnlistedTables(source) {
  const listed = new Set(TABLES.map(([table]) => table));
  const unlisted = source
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
    .all()
    .map((t) => t.name)
    .filter((name) => !listed.has(name))
    .filter((name) => source.prepare(`SELECT 1 FROM "${name}" WHERE ${NOT_REWRITTEN[name] ?? '1 = 1'} LIMIT 1`).get() !== undefined);
  if (unlisted.length > 0) throw new Error(`ledger-floor: the ingest wrote rows into ${unlisted.join(', ')}, which TABLES does not list`);
}

/** A connection with the SQLite store's own settings (`settings`: its SQLITE_SETTINGS). */
function openLikeTheLedger(file, settings) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  for (const setting of settings) db.pragma(setting);
  return db;
}

/**
 * Writes the rows of the ledger at `sourceFile` again, in `batches` transactions, into an empty
 * ledger made by `openLedger` (so of the same schema), with the store's `settings`. Returns the
 * seconds its inserts and commits took, in all and per table.
 */
export async function ledgerFloor(openLedger, settings, sourceFile, batches) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-bench-floor-'));
  const source = new Database(sourceFile, { readonly: true });
  let db;
  let tables = [];
  try {
    refuseUnlistedTables(source);
    const file = path.join(dir, 'floor.db');
    await openLedger(file).close();
    db = openLikeTheLedger(file, settings);
    tables = TABLES.map(([table, order]) => {
      const read = source.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).raw();
      const columns = read.columns().map((c) => c.name);
      const count = source.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get().n;
      const insert = db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
      return { table, rows: read.iterate(), perBatch: Math.ceil(count / batches), insert, count, seconds: 0 };
    });
    let commitMs = 0;
    for (let b = 0; b < batches; b++) {
      // Read outside the timing: each table's share of this batch.
      const slices = tables.map((t) => take(t.rows, t.perBatch));
      db.exec('BEGIN IMMEDIATE');
      tables.forEach((t, i) => {
        const s0 = performance.now();
        for (const row of slices[i]) t.insert.run(...row);
        t.seconds += (performance.now() - s0) / 1000;
      });
      const c0 = performance.now();
      db.exec('COMMIT');
      commitMs += performance.now() - c0;
    }
    const insertS = tables.reduce((s, t) => s + t.seconds, 0);
    return {
      rows: tables.reduce((n, t) => n + t.count, 0),
      floor_s: round(insertS + commitMs / 1000),
      commits_s: round(commitMs / 1000),
      by_table: Object.fromEntries(tables.map((t) => [t.table, { rows: t.count, s: round(t.seconds) }])),
    };
  } finally {
    // The reads left open end before their connection closes (better-sqlite3 refuses to close a busy one).
    for (const t of tables) t.rows.return();
    db?.close();
    source.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function take(iterator, n) {
  const rows = [];
  for (let i = 0; i < n; i++) {
    const next = iterator.next();
    if (next.done) break;
    rows.push(next.value);
  }
  return rows;
}

const round = (s) => Math.round(s * 10) / 10;

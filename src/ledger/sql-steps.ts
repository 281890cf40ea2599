/**
 * Work written once for both SQL stores: a generator that yields each statement (SQL both
 * dialects read alike, parameters as `?`) and is handed its rows back. The SQLite store runs it
 * synchronously inside its write transaction (better-sqlite3 cannot await within one), the
 * PostgreSQL store runs it awaiting each statement on its transaction's client.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';

/** The SQL dialect a schema is written in. */
export type Dialect = 'sqlite' | 'postgres';

/**
 * What follows each sorted or compared text column of a schema in `dialect`: PostgreSQL's "C"
 * (byte order, as SQLite compares), so both stores order times and names alike whatever the database's locale.
 */
export const collation = (dialect: Dialect): string => (dialect === 'postgres' ? ' COLLATE "C"' : '');

/** One statement to run, and whether its rows are wanted. */
export interface SqlStatement {
  kind: 'statement';
  sql: string;
  params: readonly unknown[];
  /** A statement that returns rows (a SELECT); others are run for their effect. */
  reads: boolean;
}

/** A column of rows inserted at once, and its type (PostgreSQL's name; SQLite takes any). */
export type SqlColumn = readonly [name: string, type: 'text' | 'integer' | 'bigint' | 'double precision'];

/**
 * Many rows inserted into one table, each driver the way its database takes them best: SQLite
 * one prepared statement per row, PostgreSQL one statement over arrays of the columns.
 */
export interface SqlInsert {
  kind: 'insert';
  table: string;
  columns: readonly SqlColumn[];
  rows: ReadonlyArray<readonly unknown[]>;
  /** What follows the insert: an `ON CONFLICT ...` clause, or nothing. */
  onConflict: string;
}

export type SqlStep = SqlStatement | SqlInsert;

/** Work of several statements, returning `R`. */
export type SqlWork<R> = Generator<SqlStep, R, unknown[]>;

/** The rows of a query, inside SqlWork: `const rows = yield* select<Row>('SELECT ...', [a, b])`. */
export function* select<T>(sql: string, params: readonly unknown[] = []): SqlWork<T[]> {
  return (yield { kind: 'statement', sql, params, reads: true }) as T[];
}

/**
 * The condition of the page after `after` in the order of `column` (a key): none for the first
 * page, so a row whose key sorts below any a page could start after (an empty id, a seq of 0) is read too.
 */
export function pageAfter(column: string, after: string | number | null): { where: string; params: unknown[] } {
  return after === null ? { where: '1 = 1', params: [] } : { where: `${column} > ?`, params: [after] };
}

/** A statement run for its effect, inside SqlWork. */
export function* execute(sql: string, params: readonly unknown[] = []): SqlWork<void> {
  yield { kind: 'statement', sql, params, reads: false };
}

/** Rows inserted into `table`, inside SqlWork (`onConflict` an `ON CONFLICT` clause for an upsert). */
export function* insertRows(
  table: string,
  columns: readonly SqlColumn[],
  rows: ReadonlyArray<readonly unknown[]>,
  onConflict = '',
): SqlWork<void> {
  if (rows.length > 0) yield { kind: 'insert', table, columns, rows, onConflict };
}

const insertInto = (i: SqlInsert): string => `INSERT INTO ${i.table} (${i.columns.map(([name]) => name).join(', ')})`;

/** `?, ?, ?`: the placeholders of `n` parameters (n > 0). */
export const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/** Statements prepared per database: a write repeats the same few texts many times. */
const prepared = new WeakMap<Database.Database, Map<string, Database.Statement>>();
const PREPARED_MAX = 256;

function statement(db: Database.Database, sql: string): Database.Statement {
  let cache = prepared.get(db);
  if (!cache) prepared.set(db, (cache = new Map()));
  let s = cache.get(sql);
  if (!s) {
    s = db.prepare(sql);
    if (cache.size >= PREPARED_MAX) cache.delete(cache.keys().next().value!);
    cache.set(sql, s);
  }
  return s;
}

/** Runs `work` on a SQLite database, synchronously (call it inside the transaction it belongs to). */
export function runSqlite<R>(db: Database.Database, work: SqlWork<R>): R {
  let step = work.next();
  while (!step.done) {
    const v = step.value;
    if (v.kind === 'insert') {
      const s = statement(db, `${insertInto(v)} VALUES (${placeholders(v.columns.length)}) ${v.onConflict}`);
      for (const row of v.rows) s.run(...row);
      step = work.next([]);
    } else {
      const s = statement(db, v.sql);
      step = work.next(v.reads ? s.all(...v.params) : (s.run(...v.params), []));
    }
  }
  return step.value;
}

/** `?` placeholders as PostgreSQL's `$1, $2 ...` (the statements of SqlWork hold no `?` but placeholders). */
export function dollarPlaceholders(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

/** Runs `work` on a PostgreSQL client (inside the transaction the caller holds, when it writes). */
export async function runPostgres<R>(client: pg.ClientBase, work: SqlWork<R>): Promise<R> {
  let step = work.next();
  while (!step.done) {
    const v = step.value;
    if (v.kind === 'insert') {
      const arrays = v.columns.map((_, c) => v.rows.map((row) => row[c]));
      const unnest = v.columns.map(([, type], c) => `$${c + 1}::${type}[]`).join(', ');
      await client.query(`${insertInto(v)} SELECT * FROM unnest(${unnest}) ${v.onConflict}`, arrays);
      step = work.next([]);
    } else {
      const { rows } = await client.query(dollarPlaceholders(v.sql), v.params as unknown[]);
      step = work.next(v.reads ? rows : []);
    }
  }
  return step.value;
}

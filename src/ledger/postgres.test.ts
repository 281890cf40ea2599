/**
 * The PostgreSQL ledger: the LedgerStore and SQL ledger contracts, each test on a database of
 * its own on the server the test setup started; and what is PostgreSQL's own (migrations under
 * concurrent openers, a newer schema refused, an unreachable server said so without its password).
 */
import net from 'node:net';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError, LedgerUnavailableError } from '../errors.js';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/postgres.js';
import { openLedger, type LedgerStore } from './index.js';
import { deployment, ledgerStoreContract } from './ledger.contract.js';
import { SCHEMA_VERSION } from './migrations.js';
import { PostgresLedger, redactedUrl } from './postgres.js';
import { sqlLedgerContract } from './sql.contract.js';

async function exec(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

ledgerStoreContract('postgres', async () => {
  const db = await createTestDatabase();
  return { ledger: new PostgresLedger(db.url), cleanup: db.drop };
});

sqlLedgerContract('postgres', async () => {
  const db = await createTestDatabase();
  return {
    open: () => new PostgresLedger(db.url),
    exec: (sql) => exec(db.url, sql).then(() => undefined),
    setSchemaVersion: (version) => exec(db.url, `UPDATE ledger_schema SET version = ${version}`).then(() => undefined),
    cleanup: db.drop,
  };
});

describe('PostgresLedger', () => {
  const databases: TestDatabase[] = [];
  const ledgers: LedgerStore[] = [];
  const newDatabase = async (): Promise<TestDatabase> => {
    const db = await createTestDatabase();
    databases.push(db);
    return db;
  };
  const newLedger = (url: string): LedgerStore => {
    const l = openLedger(url);
    ledgers.push(l);
    return l;
  };
  afterEach(async () => {
    for (const l of ledgers.splice(0)) await l.close();
    for (const d of databases.splice(0)) await d.drop();
  });

  it('openLedger opens a postgres:// or postgresql:// URL as a PostgreSQL ledger', async () => {
    const db = await newDatabase();
    for (const url of [db.url, db.url.replace(/^postgres:/, 'postgresql:')]) {
      const l = newLedger(url);
      expect(l).toBeInstanceOf(PostgresLedger);
      await l.recordDeployment(deployment(url));
    }
    expect((await newLedger(db.url).listDeployments()).length).toBe(2);
  });

  it('five stores opening one new database at once apply each migration once', async () => {
    const db = await newDatabase();
    const stores = Array.from({ length: 5 }, () => newLedger(db.url));
    await Promise.all(stores.map((s, i) => s.recordDeployment(deployment(`d${i}`))));
    const schema = await exec(db.url, 'SELECT version FROM ledger_schema');
    expect(schema.rows).toEqual([{ version: SCHEMA_VERSION }]);
    expect(await stores[0]!.verify()).toEqual({ ok: true, rows: 5, problems: [] });
  });

  it('refuses a database at a newer schema version, changing nothing', async () => {
    const db = await newDatabase();
    await exec(
      db.url,
      `CREATE TABLE ledger_schema (id INTEGER PRIMARY KEY, version INTEGER NOT NULL); INSERT INTO ledger_schema VALUES (1, ${SCHEMA_VERSION + 3})`,
    );
    const err = await newLedger(db.url)
      .listDeployments()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toContain(
      `is at schema version ${SCHEMA_VERSION + 3}, newer than this deployer knows (${SCHEMA_VERSION})`,
    );
    const tables = await exec(db.url, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
    expect(tables.rows).toEqual([{ tablename: 'ledger_schema' }]);
  });

  it('a server that refuses connections is LEDGER_UNAVAILABLE, naming it without its password', async () => {
    const closed = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as net.AddressInfo;
        srv.close(() => resolve(port));
      });
    });
    const ledger = newLedger(`postgres://deployer:s3cret-pw@127.0.0.1:${closed}/ledger`);
    const err = await ledger.recordDeployment(deployment('d1')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LedgerUnavailableError);
    expect((err as Error).message).toBe(
      `cannot use the ledger at postgres://deployer:***@127.0.0.1:${closed}/ledger: the connection was refused (is the server running?)`,
    );
    expect(JSON.stringify((err as LedgerUnavailableError).toJSON())).not.toContain('s3cret-pw');
  });

  it('a database that does not exist is LEDGER_UNAVAILABLE', async () => {
    const db = await newDatabase();
    const missing = db.url.replace(/\/[^/]+$/, '/no_such_ledger');
    const err = await newLedger(missing)
      .listRollbacks()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LedgerUnavailableError);
    expect((err as Error).message).toMatch(/no_such_ledger: the database does not exist$/);
  });

  it('redactedUrl hides the password and nothing else', () => {
    expect(redactedUrl('postgres://u:p%40ss@db.internal:5432/ledger?sslmode=require')).toBe(
      'postgres://u:***@db.internal:5432/ledger?sslmode=require',
    );
    expect(redactedUrl('postgresql://u@db/ledger')).toBe('postgresql://u@db/ledger');
    // Unparseable, so its password cannot be found: none of it is shown.
    expect(redactedUrl('postgres://u:pw@[bad/ledger')).toBe('postgres://(an unreadable URL)');
  });
});

/**
 * The PostgreSQL ledger's AccessStore: the contract and the SQL contract, each test on a
 * database of its own on the server the test setup started; and what is PostgreSQL's own (a
 * TRUNCATE of the audit log refused, many claims at once over several pools).
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/postgres.js';
import { accessSqlContract, accessStoreContract, delivery, entry } from './access.contract.js';
import { PostgresLedger } from './postgres.js';
import type { LedgerStore } from './store.js';

async function exec(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

accessStoreContract('postgres', async () => {
  const db = await createTestDatabase();
  return { ledger: new PostgresLedger(db.url), other: () => new PostgresLedger(db.url), cleanup: db.drop };
});

accessSqlContract('postgres', async () => {
  const db = await createTestDatabase();
  return {
    open: () => new PostgresLedger(db.url),
    exec: (sql) => exec(db.url, sql),
    setSchemaVersion: (version) => exec(db.url, `UPDATE ledger_schema SET version = ${version}`),
    cleanup: db.drop,
  };
});

describe('PostgresLedger access', () => {
  const databases: TestDatabase[] = [];
  const ledgers: LedgerStore[] = [];
  const newLedger = (url: string): LedgerStore => {
    const l = new PostgresLedger(url);
    ledgers.push(l);
    return l;
  };
  afterEach(async () => {
    for (const l of ledgers.splice(0)) await l.close();
    for (const d of databases.splice(0)) await d.drop();
  });
  const newDatabase = async (): Promise<TestDatabase> => {
    const db = await createTestDatabase();
    databases.push(db);
    return db;
  };

  it('refuses a TRUNCATE of the audit log', async () => {
    const db = await newDatabase();
    const access = newLedger(db.url).access();
    await access.appendAudit(entry());
    await expect(exec(db.url, 'TRUNCATE audit_log')).rejects.toThrow(/audit_log is append-only/);
    expect(await access.listAudit()).toHaveLength(1);
  });

  it('of many claims of each delivery at once, from three stores of four connections each, one wins each', async () => {
    const db = await newDatabase();
    const stores = [newLedger(db.url), newLedger(db.url), newLedger(db.url)].map((l) => l.access());
    const claims = await Promise.all(
      Array.from({ length: 120 }, async (_, i) => {
        const id = `d${i % 10}`;
        return (await stores[i % 3]!.claimDelivery(delivery(id))) ? id : undefined;
      }),
    );
    const won = claims.filter((id) => id !== undefined).sort();
    expect(won).toEqual(Array.from({ length: 10 }, (_, i) => `d${i}`));
  });
});

/**
 * A database of its own for each PostgreSQL test, on the server the test setup started (or the
 * one TESTS_OF_DEPLOYER_POSTGRES_URL names), dropped afterwards.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { TEST_POSTGRES_ENV } from './postgres-server.mjs';

/** The URL of the server the tests may create databases on. */
export function testPostgresUrl(): string {
  const url = process.env[TEST_POSTGRES_ENV];
  if (!url) throw new Error(`${TEST_POSTGRES_ENV} is not set: the test setup (test/setup/) starts PostgreSQL and sets it`);
  return url;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testPostgresUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates a new, empty database; `drop()` removes it (closing what is still connected). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `deployer_test_${randomUUID().replaceAll('-', '')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(testPostgresUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

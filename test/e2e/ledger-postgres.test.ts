/**
 * A team's shared PostgreSQL ledger, as a user points deployer at it (DEPLOY_LEDGER_DB =
 * postgres://...): apply through the real Pulumi engine records there, and the ledger commands
 * read it back; a ledger server that cannot be reached stops an apply before it changes
 * anything, and no message shows the password.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployer, deployerJson } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { freePort, removeTestdirs, testdir } from '../helpers/testdir.js';

let dir: string;
let db: TestDatabase;
const args = (...a: string[]): string[] => [...a, '-C', dir, '-e', 'dev'];
const env = (): Record<string, string> => ({ DEPLOY_LEDGER_DB: db.url });

beforeAll(async () => {
  dir = testdir('examples/quickstart', { '8080': String(await freePort()) });
  db = await createTestDatabase();
});

afterAll(async () => {
  await deployer(args('destroy', '--yes'), env());
  await db.drop();
  removeTestdirs();
});

describe('a PostgreSQL ledger', () => {
  it('refuses an apply when the ledger server cannot be reached, before anything changes', async () => {
    const closed = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as net.AddressInfo;
        srv.close(() => resolve(port));
      });
    });
    const r = await deployer(args('apply', '--yes'), { DEPLOY_LEDGER_DB: `postgres://ci:hunter2-secret@127.0.0.1:${closed}/ledger` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot use the ledger at postgres://ci:***@127.0.0.1:${closed}/ledger: the connection was refused`);
    expect(r.stderr + r.stdout).not.toContain('hunter2-secret');
    const state = await deployerJson<{ components: unknown[] }>(args('state', 'list'));
    expect(state.json.components).toEqual([]);
    expect((await deployerJson<{ locks: unknown[] }>(args('lock', 'status'))).json.locks).toEqual([]);
  });

  it('records an apply there, and the ledger commands read it back', async () => {
    const applied = await deployer(args('apply', '--yes'), env());
    expect(applied.code, applied.stderr).toBe(0);
    const listed = await deployerJson<{ deployments: Array<Record<string, unknown>> }>(['ledger', 'list-deployments', '-C', dir], env());
    expect(listed.json.deployments).toEqual([expect.objectContaining({ service: 'web', status: 'success', environment: 'dev' })]);
    const metrics = await deployerJson<{ results: Array<{ value: number | null; counted: number }> }>(
      ['ledger', 'show-metrics', '--metric', 'success-rate', '-e', 'dev', '-C', dir],
      env(),
    );
    expect(metrics.code, metrics.stderr).toBe(0);
    expect(metrics.json.results).toEqual([expect.objectContaining({ value: 100, counted: 1 })]);
    const verified = await deployer(['ledger', 'verify', '-C', dir], env());
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/intact: 2 row/);
  });
});

// Global test setup: the same provisioning a user's `deployer setup` runs. When no Pulumi CLI
// is installed or cached, this builds it from Go modules (minutes, once); it never skips.
// It starts the PostgreSQL server the ledger's tests create their databases on (unless
// TESTS_OF_DEPLOYER_POSTGRES_URL names one), and stops it afterwards.
// Its teardown fails the run when a test left a process, a mount or a temporary directory behind.
import { ensurePulumiCli } from '../../src/engine/index.js';
import { startPostgres, TEST_POSTGRES_ENV } from '../helpers/postgres-server.mjs';
import { leftBehind, markTestRun, removeLeftovers } from './leftovers.js';

export default async function setup(): Promise<() => Promise<void>> {
  const started = Date.now();
  const cli = await ensurePulumiCli({ onProgress: (m) => process.stderr.write(`[pulumi setup] ${m}\n`) });
  process.stderr.write(
    `[pulumi setup] using ${cli.binary} (${cli.version}, from ${cli.source}, ${((Date.now() - started) / 1000).toFixed(1)}s)\n`,
  );
  const postgres = process.env[TEST_POSTGRES_ENV] ? undefined : await startPostgres();
  if (postgres) {
    process.env[TEST_POSTGRES_ENV] = postgres.url;
    process.stderr.write(`[postgres] started a throwaway server at ${postgres.url}\n`);
  }
  const run = markTestRun();
  return async () => {
    await postgres?.stop();
    const found = leftBehind(run);
    removeLeftovers(run, found);
    if (found.length === 0) return;
    // vitest reports an error thrown here but still exits 0: the exit code says it too.
    process.exitCode = 1;
    throw new Error(
      `the tests left ${found.length} thing(s) behind (now removed), each a test that does not clean up what it started:\n${found.map((f) => `  ${f.kind} ${f.what}`).join('\n')}`,
    );
  };
}

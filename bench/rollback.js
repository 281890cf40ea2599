// Rollback benchmark through the real engine: the rollback fixture applied at v1, then a v2
// whose health check fails, BENCH_RUNS times. Prints how long after the health failure the
// previous version was back (seed 002 asks < 30 s) and how long the rollback itself took.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'deployer.js');

export async function benchRollback(runs, freePort, stats) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-bench-rollback-'));
  cpSync(path.join(root, 'test/fixtures/rollback'), dir, { recursive: true });
  const api = path.join(dir, 'services/web/api.yaml');
  const port = await freePort();
  const server = path.join(root, 'test/fixtures/apps/echo-server.mjs');
  writeFileSync(api, readFileSync(api, 'utf8').replace('PORT_API', String(port)).replace('ECHO_SERVER', server));
  // The breaker would stop the repeated failures this benchmark makes on purpose.
  writeFileSync(path.join(dir, 'stack.yaml'), readFileSync(path.join(dir, 'stack.yaml'), 'utf8').replace('failureThreshold: 2', 'enabled: false'));
  const run = (...args) => spawnSync(process.execPath, [bin, ...args, '-C', dir, '-e', 'test', '--yes', '--json'], { encoding: 'utf8', env: { ...process.env, DEPLOY_LEDGER_DB: path.join(dir, 'ledger.db') } });
  try {
    const first = run('apply');
    if (first.status !== 0) throw new Error(`apply v1 failed:\n${first.stderr}`);
    const since = [];
    const took = [];
    for (let i = 0; i < runs; i++) {
      writeFileSync(api, readFileSync(api, 'utf8').replace(/VERSION: \S+/, `VERSION: bad-${i}\n    HEALTHY: "false"`));
      const r = run('apply');
      const rb = JSON.parse(r.stdout).summary.rollback;
      if (!rb?.ok) throw new Error(`no successful rollback:\n${r.stdout}`);
      since.push(rb.sinceFailureMs);
      took.push(rb.durationMs);
      writeFileSync(api, readFileSync(api, 'utf8').replace(`VERSION: bad-${i}\n    HEALTHY: "false"`, 'VERSION: v1'));
    }
    return { note: 'MicroService with 2 replicas (rolling) and a new S3 component; v2 fails its health check', afterHealthFailure: stats(since), rollbackDuration: stats(took) };
  } finally {
    run('destroy');
    rmSync(dir, { recursive: true, force: true });
  }
}

#!/usr/bin/env node
// Benchmarks of the walking skeleton; prints one JSON document. Figures are wall-clock
// milliseconds on this machine (min / median / max over the runs), never asserted by tests.
//   noOpApply:      `deployer apply --yes` of the applied quick start, as a new process each time
//   planProcess:    `deployer plan` of the quick start, as a new process
//   engineUp:       one Pulumi `up` of a one-resource stack through the Engine (create, then no-op)
//   cliBuild:       building the Pulumi CLI into an empty cache (only with BENCH_BUILD_CLI=1)
//   sharedState:    lock acquire+release (dynalite, file) and a 10k-component state (s3rver, file)
//   discovery:      discovery + validation + plan of 100/1000/5000 services x 10 components, and ~100 MB of YAML
//   scheduling:     200-component random DAGs of sleep resources through the executor: makespan / lower bound, graph vs waves
//   rollback:       automatic rollback after a failed health check, through the real engine: time after the failure
//   drift:          `deployer drift` of the quick start and of 50 local components (10/25/50, concurrency 1/4/8)
//   engineCost:     40 components in deployer, plain Pulumi (one stack) and OpenTofu: first apply, no-op plan/apply, one change, destroy
//   ledger:         1M events ingested into SQLite and PostgreSQL, then each metric over them, cold and cached; SQLite's floor (the same rows written by better-sqlite3 alone)
//   server:         `deployer serve` under autocannon: signed webhook deliveries, and /metrics scraped under that load
//   pipeline:       a standard change of the quick start from apply to serving (build, gates, rollout), a cache-hit apply, the switch lag of two regions
//   localPlatform:  apply to all healthy for 20 local services with port: auto; `deployer services` latency with 20 and 100 components
// BENCH_ONLY=sharedState (or quickstart, engine) runs one group.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchDiscovery } from './discovery.js';
import { benchDrift } from './drift.js';
import { benchEngineCost } from './engine-cost.js';
import { benchLedger } from './ledger.js';
import { benchLocalPlatform } from './local-platform.js';
import { benchPipeline } from './pipeline.js';
import { benchRollback } from './rollback.js';
import { benchScheduling } from './scheduling.js';
import { benchServer } from './server.js';
import { benchSharedState } from './shared-state.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'deployer.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const round = (x) => Math.round(x * 10) / 10;
  return { runs: s.length, min_ms: round(s[0]), median_ms: round(s[Math.floor(s.length / 2)]), max_ms: round(s[s.length - 1]) };
}

function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function deployer(args, dir) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args, '-C', dir, '-e', 'dev'], { encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`deployer ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return { ms, stdout: r.stdout };
}

async function quickstart() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-bench-'));
  cpSync(path.join(root, 'examples', 'quickstart'), dir, { recursive: true, filter: (s) => !s.includes('.deployer') });
  const api = path.join(dir, 'services', 'web', 'api.yaml');
  writeFileSync(api, readFileSync(api, 'utf8').replace('8080', String(await freePort())));
  return dir;
}

async function benchQuickstart() {
  const dir = await quickstart();
  try {
    const first = deployer(['apply', '--yes'], dir);
    const noop = [];
    let engineOperations = 0;
    for (let i = 0; i < RUNS; i++) {
      const r = deployer(['apply', '--yes', '--json'], dir);
      noop.push(r.ms);
      engineOperations += JSON.parse(r.stdout).summary.engineOperations;
    }
    const plan = [];
    for (let i = 0; i < RUNS; i++) plan.push(deployer(['plan'], dir).ms);
    return { firstApply_ms: Math.round(first.ms), noOpApply: { ...stats(noop), engineOperations }, planProcess: stats(plan) };
  } finally {
    spawnSync(process.execPath, [bin, 'destroy', '--yes', '-C', dir, '-e', 'dev']);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchEngine() {
  const { ensurePulumiCli, createEngine } = await import(pathToFileURL(path.join(root, 'dist/engine/index.js')).href);
  const { LocalTarget } = await import(pathToFileURL(path.join(root, 'dist/targets/local/index.js')).href);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-bench-engine-'));
  try {
    const target = new LocalTarget();
    const engine = await createEngine({
      cli: await ensurePulumiCli(),
      backendUrl: pathToFileURL(path.join(dir, 'pulumi')).href,
      workRoot: path.join(dir, 'work'),
      passphrase: 'bench',
      env: target.engineEnv(),
    });
    const component = {
      id: 'b/bucket',
      service: 'b',
      name: 'bucket',
      kind: 'S3',
      target: 'local',
      spec: {},
      dependsOn: [],
      references: [],
      baseDir: dir,
      source: { file: path.join(dir, 'bench.yaml'), display: 'bench.yaml', docIndex: 0 },
      specHash: '',
    };
    const ctx = { stack: 'bench', environment: 'dev', stackDir: dir };
    const create = [];
    const noop = [];
    for (let i = 0; i < Math.min(RUNS, 5); i++) {
      const stackName = `bench.dev.b.bucket${i}`;
      const c = { ...component, name: `bucket${i}` };
      let t0 = performance.now();
      await engine.up({ stackName, program: target.program(c, {}, ctx) });
      create.push(performance.now() - t0);
      t0 = performance.now();
      await engine.up({ stackName, program: target.program(c, {}, ctx) });
      noop.push(performance.now() - t0);
    }
    return { engineUpCreate: stats(create), engineUpNoChange: stats(noop) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function benchCliBuild() {
  if (process.env.BENCH_BUILD_CLI !== '1') return { skipped: 'set BENCH_BUILD_CLI=1 to time a build into an empty cache (minutes)' };
  const cache = mkdtempSync(path.join(os.tmpdir(), 'deployer-bench-cache-'));
  try {
    const t0 = performance.now();
    execFileSync(process.execPath, [bin, 'setup'], {
      env: { ...process.env, DEPLOYER_CACHE_DIR: cache, PULUMI_PATH: '' },
      stdio: 'inherit',
    });
    return { seconds: Math.round((performance.now() - t0) / 100) / 10, goModCache: 'warm (modules already downloaded)' };
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

const only = process.env.BENCH_ONLY;
const want = (name) => !only || only.split(',').includes(name);
const result = {
  machine: { cpus: os.cpus().length, node: process.version },
  ...(want('quickstart') ? await benchQuickstart() : {}),
  ...(want('engine') ? await benchEngine() : {}),
  ...(want('sharedState') ? { sharedState: await benchSharedState() } : {}),
  ...(want('discovery') ? { discovery: benchDiscovery() } : {}),
  ...(want('scheduling') ? { scheduling: await benchScheduling() } : {}),
  ...(want('rollback') ? { rollback: await benchRollback(Math.min(RUNS, 3), freePort, stats) } : {}),
  ...(want('drift') ? { drift: await benchDrift(quickstart) } : {}),
  ...(want('engineCost') ? { engineCost: await benchEngineCost(quickstart) } : {}),
  ...(want('ledger') ? { ledger: await benchLedger() } : {}),
  ...(want('server') ? { server: await benchServer() } : {}),
  ...(want('pipeline') ? { pipeline: await benchPipeline(quickstart, freePort, Math.min(RUNS, 5)) } : {}),
  ...(want('localPlatform') ? { localPlatform: await benchLocalPlatform(Math.min(RUNS, 5)) } : {}),
  ...(want('cliBuild') ? { cliBuild: benchCliBuild() } : {}),
};
process.stdout.write(JSON.stringify(result, null, 2) + '\n');

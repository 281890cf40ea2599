// The release pipeline (issue 18): on the local target, through the real engine.
//   standardChange: one change to the quick start's API code, from `deployer apply` to the new
//                   version serving, and its parts: start-up and plan, build (a cache miss),
//                   gates, rollout (of which health verification), the command's end
//   cacheHitApply:  the same apply when the build is a cache hit (the code changed back)
//   regionSwitchLag: two regions of one stack updated together: the time between the first and
//                   the last region's traffic switch to the new version
import { spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'deployer.js');

/** `deployer apply --yes --json` in `dir`: its wall time, its JSON result, and its events with their times. */
function applyJson(dir, env) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const started = performance.now();
    const child = spawn(process.execPath, [bin, 'apply', '--yes', '--json', '-C', dir, '-e', env], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const ms = performance.now() - started;
      const events = err
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      try {
        resolve({ code, ms, startedAt: t0, result: JSON.parse(out), events });
      } catch {
        reject(new Error(`apply exited ${code}:\n${out}\n${err}`));
      }
    });
  });
}

const at = (e) => Date.parse(e.time);

/** The parts of one apply of the API, from its events. */
function partsOf(run) {
  const of = (type, id = 'web/api') => run.events.filter((e) => e.type === type && (e.id === id || e.report?.id === id));
  const plan = run.events.find((e) => e.type === 'plan');
  const [buildDone] = of('build-done');
  const [start] = of('component-start');
  const gates = of('gate');
  const [rollout] = of('component-rollout');
  if (!plan || !buildDone || !start || !rollout) throw new Error(`an event is missing: ${run.events.map((e) => e.type).join(', ')}`);
  const switched = Date.parse(rollout.rollout.switchedAt);
  const lastGate = gates.length ? at(gates.at(-1)) : at(start);
  return {
    total_ms: switched - run.startedAt,
    startupAndPlan_ms: at(plan) - run.startedAt,
    build_ms: buildDone.build.durationMs,
    buildCache: buildDone.build.cache,
    gates_ms: lastGate - at(start),
    rollout_ms: switched - lastGate,
    verification_ms: Date.parse(rollout.rollout.verifiedAt) - Date.parse(rollout.rollout.startedAt),
    afterSwitch_ms: Math.round(run.startedAt + run.ms - switched),
    command_ms: Math.round(run.ms),
  };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The median of each numeric field over the runs. */
function medians(runs) {
  const out = { runs: runs.length };
  for (const k of Object.keys(runs[0])) out[k] = typeof runs[0][k] === 'number' ? Math.round(median(runs.map((r) => r[k]))) : runs[0][k];
  return out;
}

export async function benchPipeline(quickstart, freePort, runs) {
  const dir = await quickstart();
  const server = path.join(dir, 'services/web/src/server.mjs');
  const original = readFileSync(server, 'utf8');
  // The quick start behind a security scan gate, its report in Trivy's format.
  mkdirSync(path.join(dir, 'reports'));
  copyFileSync(path.join(root, 'test/fixtures/scan-reports/trivy-clean.json'), path.join(dir, 'reports/scan.json'));
  appendFileSync(path.join(dir, 'stack.yaml'), '  pipeline:\n    gates:\n      securityScan:\n        report: reports/scan.json\n');
  try {
    const first = await applyJson(dir, 'dev');
    if (first.code !== 0) throw new Error(JSON.stringify(first.result));
    const misses = [];
    const hits = [];
    for (let i = 0; i < runs; i++) {
      writeFileSync(server, `${original}// change ${i} ${Date.now()}\n`);
      misses.push(partsOf(await applyJson(dir, 'dev')));
      writeFileSync(server, original);
      hits.push(partsOf(await applyJson(dir, 'dev')));
    }
    return {
      standardChange: { ...medians(misses), goal_ms: 240_000 },
      cacheHitApply: medians(hits),
      regionSwitchLag: await benchRegions(freePort, runs),
    };
  } finally {
    await spawnDestroy(dir, 'dev');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchRegions(freePort, runs) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-bench-regions-'));
  cpSync(path.join(root, 'test/fixtures/regions'), dir, { recursive: true });
  const stack = path.join(dir, 'stack.yaml');
  writeFileSync(
    stack,
    readFileSync(stack, 'utf8')
      .replace('PORT_EU', String(await freePort()))
      .replace('PORT_US', String(await freePort())),
  );
  const api = path.join(dir, 'services/web/api.yaml');
  try {
    await applyJson(dir, 'prod');
    const lags = [];
    for (let i = 0; i < runs; i++) {
      writeFileSync(api, readFileSync(api, 'utf8').replace(/GREETING: .*/, `GREETING: v${i + 2}`));
      const r = await applyJson(dir, 'prod');
      if (!r.result.ok) throw new Error(JSON.stringify(r.result));
      lags.push(r.result.switch.lagMs);
    }
    return { regions: 2, runs: lags.length, lag_ms: lags, median_ms: median(lags), max_ms: Math.max(...lags), bound_ms: 5000 };
  } finally {
    await spawnDestroy(dir, 'prod');
    rmSync(dir, { recursive: true, force: true });
  }
}

function spawnDestroy(dir, env) {
  return new Promise((resolve) =>
    spawn(process.execPath, [bin, 'destroy', '--yes', '-C', dir, '-e', env], { stdio: 'ignore' }).on('close', resolve),
  );
}

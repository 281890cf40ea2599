// Drift figures (issue 14): `deployer drift` as a user runs it (a new process each time), over
// the applied quick start, and over an applied stack of 50 local components (S3 buckets, 5
// services x 10) checked 10, 25 and 50 at a time through --component, at the default
// concurrency (4) and at 1 and 8 for all 50: the check time, and its growth per component (the
// slope of a least-squares line through the three sizes). Wall-clock, never asserted by tests.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'deployer.js');

function run(args, dir, ok = [0]) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args, '-C', dir, '-e', 'dev'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = performance.now() - t0;
  if (!ok.includes(r.status)) throw new Error(`deployer ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return { ms, stdout: r.stdout };
}

/** A stack of `services` x 10 local S3 buckets. */
function bucketStack(dir, services) {
  writeFileSync(
    path.join(dir, 'stack.yaml'),
    'apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: driftbench\nspec:\n  environments: [dev]\n  target: local\n',
  );
  const ids = [];
  for (let s = 0; s < services; s++) {
    const sdir = path.join(dir, 'services', `b${s}`);
    mkdirSync(sdir, { recursive: true });
    writeFileSync(
      path.join(sdir, 'service.yaml'),
      `apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: b${s}\nspec:\n  owner: bench\n`,
    );
    for (let c = 0; c < 10; c++) {
      writeFileSync(
        path.join(sdir, `bucket${c}.yaml`),
        `apiVersion: components.deployer.io/v1\nkind: S3\nmetadata:\n  name: bucket${c}\nspec:\n  versioning: ${c % 2 === 0}\n  tags:\n    team: bench\n`,
      );
      ids.push(`b${s}/bucket${c}`);
    }
  }
  return ids;
}

const seconds = (ms) => Math.round(ms / 100) / 10;

/** The slope (s per component) of the least-squares line through the points. */
function slope(points) {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const num = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const den = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return Math.round((num / den) * 1000) / 1000;
}

function driftOf(dir, ids, concurrency) {
  const flags = ids.flatMap((id) => ['--component', id]);
  const r = run(['drift', '--json', '--concurrency', String(concurrency), ...flags], dir);
  const report = JSON.parse(r.stdout);
  if (report.counts.findings !== 0) throw new Error(`the untouched stack drifted: ${r.stdout}`);
  return r.ms;
}

export async function benchDrift(quickstart) {
  const out = {};
  const qs = await quickstart();
  try {
    run(['apply', '--yes'], qs);
    const times = [0, 1, 2].map(() => run(['drift', '--json'], qs).ms).sort((a, b) => a - b);
    out.quickstart = { components: 2, concurrency: 4, median_s: seconds(times[1]), min_s: seconds(times[0]) };
  } finally {
    spawnSync(process.execPath, [bin, 'destroy', '--yes', '-C', qs, '-e', 'dev']);
    rmSync(qs, { recursive: true, force: true });
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-bench-drift-'));
  try {
    const ids = bucketStack(dir, 5);
    const applied = run(['apply', '--yes'], dir);
    out.fiftyComponents = { applyFirst_s: seconds(applied.ms), concurrency: {} };
    const points = [10, 25, 50].map((n) => [n, driftOf(dir, ids.slice(0, n), 4) / 1000]);
    out.fiftyComponents.concurrency['4'] = Object.fromEntries(points.map(([n, s]) => [`${n}_components_s`, Math.round(s * 10) / 10]));
    out.fiftyComponents.growthPerComponent_s_at_concurrency_4 = slope(points);
    for (const c of [1, 8]) out.fiftyComponents.concurrency[String(c)] = { '50_components_s': seconds(driftOf(dir, ids, c)) };
  } finally {
    spawnSync(process.execPath, [bin, 'destroy', '--yes', '-C', dir, '-e', 'dev']);
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

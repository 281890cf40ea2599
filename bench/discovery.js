// Discovery + validation + plan at scale (issue 5): synthetic stacks of N services x 10
// components, cold (no parse cache) and warm, as a whole `deployer plan` process and in
// process; and ~100 MB of YAML, with the peak memory.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { generateStack } from './generate-stack.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.join(here, '..', 'bin', 'deployer.js');

function run(args) {
  const t0 = performance.now();
  execFileSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  return performance.now() - t0;
}

function once(dir) {
  return JSON.parse(execFileSync(process.execPath, [path.join(here, 'plan-once.js'), dir, 'dev'], { encoding: 'utf8' }));
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)]);
}

function measure(services, { padding = 0, warmRuns = 3 } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `deployer-bench-${services}-`));
  try {
    const gen = generateStack(dir, services, { padding });
    const cold = once(dir);
    rmSync(path.join(dir, '.deployer'), { recursive: true, force: true });
    const coldProcess = run([bin, 'plan', '-C', dir, '-e', 'dev']);
    const warm = Array.from({ length: warmRuns }, () => once(dir));
    const warmProcess = Array.from({ length: warmRuns }, () => run([bin, 'plan', '-C', dir, '-e', 'dev']));
    return {
      services,
      components: gen.components,
      yamlMb: Math.round((gen.bytes / 1024 / 1024) * 10) / 10,
      cold_ms: cold.ms,
      cold_maxRssMb: cold.maxRssMb,
      coldPlanProcess_ms: Math.round(coldProcess),
      warm_ms: median(warm.map((w) => w.ms)),
      warm_maxRssMb: Math.max(...warm.map((w) => w.maxRssMb)),
      warmPlanProcess_ms: median(warmProcess),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function benchDiscovery() {
  const scaling = [100, 1000, 5000].map((n) => measure(n));
  const per1k = scaling.map((s) => ({
    services: s.services,
    cold_ms_per_1k_components: Math.round((s.cold_ms / s.components) * 1000),
    warm_ms_per_1k_components: Math.round((s.warm_ms / s.components) * 1000),
  }));
  // About 100 MB: 2,500 services whose MicroServices carry 4 KB of notes each.
  const big = measure(2500, { padding: 4200, warmRuns: 1 });
  return { scaling, per1k, yaml100mb: big };
}

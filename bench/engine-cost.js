// Engine cost (issue 15): the same DAG (component i depends on i·7 mod i and (i·13+1) mod i) in
// three systems, measured in one run on this machine, as the user runs each (a new process per
// command): deployer on local S3 components; plain Pulumi, one stack of dynamic resources that
// each make a directory (the Automation API from this project's own @pulumi/pulumi and CLI:
// always runs); OpenTofu's builtin terraform_data (when `tofu` is on PATH or BENCH_TOFU names
// it). Figures in seconds (a no-op plan or apply: the median of 5); ratios are deployer / peer.
// Wall-clock, never asserted by tests.
//   BENCH_ENGINE_SIZES=40,200 sets the sizes (default 40); the anchors run at every size.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'deployer.js');
// Milliseconds kept: a no-op takes a tenth of a second, and a ratio of hundredths rounded is no ratio.
const seconds = (ms) => Math.round(ms) / 1000;

/** The issue's DAG: the distinct earlier components component i depends on. */
export function dependenciesOf(i) {
  return i === 0 ? [] : [...new Set([(i * 7) % i, (i * 13 + 1) % i])];
}

/**
 * NODE_EXTRA_CA_CERTS makes every Node.js process load its certificates, with Node's own, before
 * running anything (on the sandbox this bench was written on, `node -e 0` takes 0.10 s with it and
 * 0.03 s without). When it is set, the no-ops and Node's start are also measured without it, so the
 * figures say what is deployer's and what is the machine's.
 */
const EXTRA_CA = process.env.NODE_EXTRA_CA_CERTS !== undefined;
const withoutExtraCa = () => {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
};

function timed(command, args, options) {
  const t0 = performance.now();
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return ms;
}

/** The median of `runs` timings of `measure`: a no-op is cheap and idempotent, and one run of it is mostly noise. */
function medianOf(runs, measure) {
  const samples = Array.from({ length: runs }, measure).sort((a, b) => a - b);
  return samples[Math.floor(runs / 2)];
}

const componentId = (i) => `s${Math.floor(i / 10)}/c${i}`;

function writeDeployerStack(dir, n) {
  writeFileSync(
    path.join(dir, 'stack.yaml'),
    'apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: cost\nspec:\n  environments: [dev]\n  target: local\n',
  );
  for (let i = 0; i < n; i++) {
    const service = `s${Math.floor(i / 10)}`;
    const sdir = path.join(dir, 'services', service);
    if (i % 10 === 0) {
      mkdirSync(sdir, { recursive: true });
      writeFileSync(
        path.join(sdir, 'service.yaml'),
        `apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: ${service}\nspec:\n  owner: bench\n`,
      );
    }
    writeComponent(dir, i, 'bench');
  }
}

function writeComponent(dir, i, team) {
  const deps = dependenciesOf(i).map(componentId);
  writeFileSync(
    path.join(dir, 'services', `s${Math.floor(i / 10)}`, `c${i}.yaml`),
    `apiVersion: components.deployer.io/v1\nkind: S3\nmetadata:\n  name: c${i}\nspec:\n  tags:\n    team: ${team}\n` +
      (deps.length > 0 ? `  dependsOn: [${deps.join(', ')}]\n` : ''),
  );
}

function benchDeployer(n) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-bench-cost-'));
  const inDir =
    (env) =>
    (...args) =>
      timed(process.execPath, [bin, ...args, '-C', dir, '-e', 'dev'], { env });
  const deployer = inDir(process.env);
  try {
    writeDeployerStack(dir, n);
    const firstApply = deployer('apply', '--yes');
    const noOpPlan = medianOf(5, () => deployer('plan'));
    const noOpApply = medianOf(5, () => deployer('apply', '--yes'));
    const noExtraCa = inDir(withoutExtraCa());
    const withoutExtraCaCerts = EXTRA_CA
      ? { noOpPlan: medianOf(5, () => noExtraCa('plan')), noOpApply: medianOf(5, () => noExtraCa('apply', '--yes')) }
      : undefined;
    writeComponent(dir, Math.floor(n / 2), 'changed');
    const changePlan = deployer('plan');
    const changeApply = deployer('apply', '--yes');
    const destroy = deployer('destroy', '--yes');
    return { figures: { firstApply, noOpPlan, noOpApply, changeOne: changePlan + changeApply, destroy }, withoutExtraCaCerts };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The Pulumi anchor: one stack of n dynamic resources, through the Automation API in a child process. */
function benchPulumi(n, cli, sdkDir) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-bench-pulumi-'));
  const script = path.join(root, 'bench', 'pulumi-one-stack.js');
  const step = (op, version = 'v1') =>
    timed(process.execPath, [script, op, dir, String(n), version], {
      // As deployer's engine does: the dynamic-provider plugin from the project's @pulumi/pulumi.
      env: {
        ...process.env,
        PATH: [path.dirname(cli.binary), sdkDir, process.env.PATH].join(path.delimiter),
        NODE_PATH: path.resolve(sdkDir, '..', '..'),
      },
    });
  try {
    const firstApply = step('up');
    const noOpPlan = step('preview');
    const noOpApply = step('up');
    const changeOne = step('up-changed', 'v2');
    const destroy = step('destroy');
    return { firstApply, noOpPlan, noOpApply, changeOne, destroy };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function tofuBinary() {
  if (process.env.BENCH_TOFU) return process.env.BENCH_TOFU;
  const found = spawnSync('sh', ['-c', 'command -v tofu'], { encoding: 'utf8' }).stdout.trim();
  return found || undefined;
}

function benchTofu(n, tofu) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-bench-tofu-'));
  const write = (changed) => {
    let hcl = '';
    for (let i = 0; i < n; i++) {
      const deps = dependenciesOf(i).map((d) => `terraform_data.c${d}`);
      const value = i === Math.floor(n / 2) && changed ? 'changed' : 'bench';
      hcl += `resource "terraform_data" "c${i}" {\n  input = "${value}"\n${deps.length ? `  depends_on = [${deps.join(', ')}]\n` : ''}}\n`;
    }
    writeFileSync(path.join(dir, 'main.tf'), hcl);
  };
  const tf = (...args) => timed(tofu, [...args], { cwd: dir, env: { ...process.env, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' } });
  try {
    write(false);
    tf('init', '-input=false', '-no-color');
    const firstApply = tf('apply', '-auto-approve', '-input=false', '-no-color');
    const noOpPlan = medianOf(5, () => tf('plan', '-input=false', '-no-color'));
    const noOpApply = medianOf(5, () => tf('apply', '-auto-approve', '-input=false', '-no-color'));
    write(true);
    const changeOne = tf('apply', '-auto-approve', '-input=false', '-no-color');
    const destroy = tf('destroy', '-auto-approve', '-input=false', '-no-color');
    return { firstApply, noOpPlan, noOpApply, changeOne, destroy };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const inSeconds = (r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, seconds(v)]));

function ratios(ours, peer) {
  return Object.fromEntries(Object.keys(ours).map((k) => [k, Math.round((ours[k] / peer[k]) * 100) / 100]));
}

/** Median and least of 7 runs of a node process. */
function processTime(args, env = process.env) {
  const samples = [];
  for (let i = 0; i < 7; i++) samples.push(timed(process.execPath, args, { env }));
  samples.sort((a, b) => a - b);
  return { median_s: seconds(samples[3]), min_s: seconds(samples[0]) };
}

export async function benchEngineCost(makeQuickstart) {
  const { ensurePulumiCli } = await import(new URL('../dist/engine/index.js', import.meta.url).href);
  const { pulumiSdkDir } = await import(new URL('../dist/package-info.js', import.meta.url).href);
  const cli = await ensurePulumiCli();
  const tofu = tofuBinary();
  const sizes = (process.env.BENCH_ENGINE_SIZES ?? '40').split(',').map(Number);
  const out = { sizes: {} };
  for (const n of sizes) {
    const measured = benchDeployer(n);
    const deployer = inSeconds(measured.figures);
    const pulumi = inSeconds(benchPulumi(n, cli, pulumiSdkDir));
    const entry = { deployer_s: deployer, pulumiOneStack_s: pulumi, ratioToPulumi: ratios(deployer, pulumi) };
    const noExtraCa = measured.withoutExtraCaCerts && inSeconds(measured.withoutExtraCaCerts);
    if (tofu && existsSync(tofu)) {
      const opentofu = inSeconds(benchTofu(n, tofu));
      Object.assign(entry, { opentofu_s: opentofu, ratioToOpenTofu: ratios(deployer, opentofu) });
      if (noExtraCa) entry.withoutNodeExtraCaCerts = { deployer_s: noExtraCa, ratioToOpenTofu: ratios(noExtraCa, opentofu) };
    } else {
      entry.opentofu = 'skipped: no tofu on PATH (DEVELOPERS.md says how to build it); BENCH_TOFU=/path/to/tofu';
      if (noExtraCa) entry.withoutNodeExtraCaCerts = { deployer_s: noExtraCa };
    }
    out.sizes[n] = entry;
  }
  const qs = await makeQuickstart();
  try {
    out.quickstartPlanProcess = processTime([bin, 'plan', '-C', qs, '-e', 'dev']);
    // The floor under every deployer command: Node.js starting and ending with nothing to do.
    out.nodeProcessStart = processTime(['-e', '0']);
    if (EXTRA_CA) {
      out.withoutNodeExtraCaCerts = {
        quickstartPlanProcess: processTime([bin, 'plan', '-C', qs, '-e', 'dev'], withoutExtraCa()),
        nodeProcessStart: processTime(['-e', '0'], withoutExtraCa()),
      };
    }
  } finally {
    rmSync(qs, { recursive: true, force: true });
  }
  out.machine = { cpus: os.cpus().length, loadavg1: Math.round(os.loadavg()[0] * 100) / 100 };
  return out;
}

// The local target as a platform (issue 19), through the real engine:
//   applyToHealthy: `deployer apply` of 20 services with `port: auto`, from the command's start
//                   until every replica answers its health check (the last component verified),
//                   and the command's whole time
//   servicesLatency: `deployer services --json` as a new process, with 20 and with 100
//                   components running (min / median / max over the runs)
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'deployer.js');

const SERVER = `import http from 'node:http';
http.createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

/** A stack of `n` services, each one MicroService with port: auto. */
function stackOf(n) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-bench-platform-'));
  writeFileSync(
    path.join(dir, 'stack.yaml'),
    'apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: platform\nspec:\n  environments: [dev]\n  target: local\n',
  );
  writeFileSync(path.join(dir, 'server.mjs'), SERVER);
  for (let i = 0; i < n; i++) {
    const svc = path.join(dir, 'services', `s${i}`);
    mkdirSync(svc, { recursive: true });
    writeFileSync(path.join(svc, 'service.yaml'), `apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: s${i}\nspec: {}\n`);
    writeFileSync(
      path.join(svc, 'api.yaml'),
      'apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: api\nspec:\n' +
        '  command: [node, ../../server.mjs]\n  port: auto\n  healthCheck: { path: /, interval: 1, healthyThreshold: 1 }\n',
    );
  }
  return dir;
}

function run(args) {
  return new Promise((resolve) => {
    const started = performance.now();
    const t0 = Date.now();
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, ms: performance.now() - started, startedAt: t0, out, err }));
  });
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { runs: s.length, min_ms: Math.round(s[0]), median_ms: Math.round(s[Math.floor(s.length / 2)]), max_ms: Math.round(s.at(-1)) };
};

/** `deployer services --json` `runs` times; checks every service runs and is healthy. */
async function servicesLatency(dir, n, runs) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const r = await run(['services', '--json', '-C', dir, '-e', 'dev']);
    const report = JSON.parse(r.out);
    const healthy = report.services.filter((s) => s.state === 'running' && s.health?.status === 'healthy').length;
    if (healthy !== n) throw new Error(`services saw ${healthy} of ${n} running and healthy`);
    times.push(r.ms);
  }
  return { components: n, ...stats(times) };
}

async function applied(n) {
  const dir = stackOf(n);
  const r = await run(['apply', '--yes', '--json', '-C', dir, '-e', 'dev']);
  if (r.code !== 0) throw new Error(`apply of ${n} services failed:\n${r.out.slice(-2000)}\n${r.err.slice(-2000)}`);
  const events = r.err
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  const verified = events.filter((e) => e.type === 'component-rollout').map((e) => Date.parse(e.rollout.verifiedAt));
  return { dir, command_ms: Math.round(r.ms), allHealthy_ms: verified.length === n ? Math.max(...verified) - r.startedAt : undefined };
}

export async function benchLocalPlatform(runs) {
  const made = [];
  try {
    const twenty = await applied(20);
    made.push(twenty.dir);
    const latency20 = await servicesLatency(twenty.dir, 20, runs);
    const hundred = await applied(100);
    made.push(hundred.dir);
    return {
      applyToHealthy: { services: 20, portAuto: true, allHealthy_ms: twenty.allHealthy_ms, command_ms: twenty.command_ms },
      servicesLatency: [latency20, await servicesLatency(hundred.dir, 100, runs)],
      apply100_ms: hundred.command_ms,
    };
  } finally {
    for (const dir of made) {
      await run(['destroy', '--yes', '-C', dir, '-e', 'dev']);
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

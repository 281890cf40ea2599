// Rollback benchmark through the real engine, per deployment strategy: a service of 3
// replicas (health check every 1 s) at v1, then a v2 that fails — its health check, its start
// (it crashes), or, for canary, its error rate while it bakes (it serves a share, then loses
// it) — while a client sends requests without pause. For each, from the failed verdict (the
// component's failure in the run's events): when the traffic was entirely back on v1 (the last
// v2 answer, 0 when v2 never served), when the run had finished (state converged), and the
// client's own count of failed requests, in all and from the rollback's start on. Seed 002
// asks < 30 s; issue 20 asks traffic back <= 1 s, finished <= 5 s, 0 failed (big-bang: none
// added by the rollback).
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'deployer.js');
const server = path.join(root, 'test/fixtures/apps/echo-server.mjs');

const STRATEGIES = {
  rolling: '{type: rolling, maxUnavailable: 1}',
  'blue-green': '{type: blue-green}',
  canary: '{type: canary}', // the default: 10 % for a 30 s bake
  'big-bang': '{type: big-bang}',
};
const FAILURES = {
  'health check fails': 'HEALTHY: "false"',
  'crashes at start': 'EXIT_AT_START: "1"',
};
const CANARY_ERRORS = { 'answers errors while it bakes': 'FAIL_EVERY: "2"' };

/** Requests one after another until stopped; each answer's time, version, and the failures. */
function client(port) {
  const log = [];
  let running = true;
  const once = () =>
    new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 5000 }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          let version = '';
          try {
            version = JSON.parse(body).version ?? '';
          } catch {
            // an error page
          }
          log.push({ at: Date.now(), ok: res.statusCode === 200, version });
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        log.push({ at: Date.now(), ok: false, version: '' });
        resolve();
      });
    });
  const loop = (async () => {
    while (running) {
      await once();
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return log;
  };
}

function deployer(args, dir) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args, '-C', dir, '-e', 'test', '--yes', '--json'], {
      env: { ...process.env, DEPLOY_LEDGER_DB: path.join(dir, 'ledger.db') },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The time of the first JSON event of `type` (matching `pick`), epoch ms. */
function eventTime(stderr, type, pick = () => true) {
  for (const line of stderr.split('\n')) {
    if (!line.includes(`"type":"${type}"`)) continue;
    const e = JSON.parse(line);
    if (pick(e)) return Date.parse(e.time);
  }
  return undefined;
}

async function episode(dir, api, port, change) {
  const text = readFileSync(api, 'utf8');
  writeFileSync(api, text.replace('VERSION: v1', `VERSION: v2\n    ${change}`));
  const stop = client(port);
  const r = await deployer(['apply'], dir);
  const log = await stop();
  writeFileSync(api, text);
  const verdict = eventTime(r.stderr, 'component-done', (e) => e.report.id === 'web/api' && e.report.result === 'failed');
  const rollbackAt = eventTime(r.stderr, 'rollback-start');
  const finished = eventTime(r.stderr, 'summary');
  const rollback = JSON.parse(r.stdout).summary?.rollback;
  if (verdict === undefined || !rollback?.ok) throw new Error(`no failed v2 rolled back:\n${r.stdout}\n${r.stderr}`);
  const lastV2 = Math.max(verdict, ...log.filter((e) => e.ok && e.version !== 'v1').map((e) => e.at));
  return {
    trafficBackMs: lastV2 - verdict,
    finishedMs: finished - verdict,
    failedRequests: log.filter((e) => !e.ok).length,
    failedDuringRollback: log.filter((e) => !e.ok && e.at >= rollbackAt).length,
    requests: log.length,
    v2Answers: log.filter((e) => e.ok && e.version === 'v2').length,
  };
}

export async function benchRollback(runs, freePort, stats) {
  const out = {};
  for (const [strategy, yaml] of Object.entries(STRATEGIES)) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-bench-rollback-'));
    cpSync(path.join(root, 'test/fixtures/strategies'), dir, { recursive: true });
    const api = path.join(dir, 'services/web/api.yaml');
    const port = await freePort();
    writeFileSync(
      api,
      readFileSync(api, 'utf8').replace('PORT_API', String(port)).replace('ECHO_SERVER', server).replace('STRATEGY', yaml),
    );
    try {
      const first = await deployer(['apply'], dir);
      if (first.code !== 0) throw new Error(`apply v1 failed:\n${first.stderr}`);
      out[strategy] = {};
      for (const [failure, change] of Object.entries({ ...FAILURES, ...(strategy === 'canary' ? CANARY_ERRORS : {}) })) {
        const samples = [];
        for (let i = 0; i < runs; i++) samples.push(await episode(dir, api, port, change));
        const worst = (k) => Math.max(...samples.map((s) => s[k]));
        out[strategy][failure] = {
          trafficBack: stats(samples.map((s) => s.trafficBackMs)),
          finished: stats(samples.map((s) => s.finishedMs)),
          failedRequests: samples.map((s) => s.failedRequests),
          failedDuringRollback: worst('failedDuringRollback'),
          requests: samples.map((s) => s.requests),
          v2Answers: samples.map((s) => s.v2Answers),
        };
      }
    } finally {
      await deployer(['destroy'], dir);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { note: 'MicroService of 3 replicas, health check every 1 s; times in ms from the failed verdict', ...out };
}

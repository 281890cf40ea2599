// `deployer serve` under load (issue 17), with autocannon on loopback for 10 s each (BENCH_SERVER_SECONDS):
//   webhooks:           signed GitHub `push` deliveries, each with a delivery id and a commit of its
//                       own (signed as it is sent), so that every one is claimed, recorded and audited.
//                       Goal: >= 2000 requests/s with p99 < 50 ms.
//   metricsUnderLoad:   GET /metrics scraped while the same deliveries arrive (two autocannon
//                       instances at once), both reported: `saturating`, one scraper asking again as
//                       soon as answered (the worst case), and `paced`, one scrape a second (still
//                       15 times Prometheus's usual rate).
// The server is the real one (startServer from dist/, over an SQLite ledger in a temporary
// directory holding 10,000 deployments, BENCH_SERVER_DEPLOYMENTS), in a child process of its own
// so that the load generator does not share its event loop. After the run the ledger is checked:
// as many changes recorded as deliveries answered 2xx.
import { fork } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';

const self = fileURLToPath(import.meta.url);
const dist = (p) => pathToFileURL(path.resolve(path.dirname(self), '..', 'dist', p)).href;
const SECONDS = Number(process.env.BENCH_SERVER_SECONDS ?? 10);
const DEPLOYMENTS = Number(process.env.BENCH_SERVER_DEPLOYMENTS ?? 10_000);
const CONNECTIONS = 16;
const REPO_URL = 'https://github.com/bench/app.git';

/** The child: seeds the ledger, starts the server and says where it listens; stops when told. */
async function child() {
  const { startServer } = await import(dist('server/index.js'));
  const { openLedger } = await import(dist('ledger/index.js'));
  const file = process.env.BENCH_SERVER_LEDGER;
  const seed = openLedger(file);
  const types = ['blue-green', 'canary', 'rolling', 'big-bang'];
  const deployments = Array.from({ length: DEPLOYMENTS }, (_, i) => {
    const started = Date.parse('2026-01-01T00:00:00Z') + i * 60_000;
    return {
      id: `seed-${i}`,
      stack: 'bench',
      service: `svc-${i % 20}`,
      version: `v${i}`,
      environment: i % 3 === 0 ? 'staging' : 'production',
      type: types[i % 4],
      started: new Date(started).toISOString(),
      completed: new Date(started + 90_000 + (i % 7) * 30_000).toISOString(),
      status: i % 10 === 0 ? 'failed' : 'success',
      initiator: 'bench@host',
      metadata: {},
      parentId: `run-${i}`,
    };
  });
  await seed.recordMany({ deployments });
  await seed.close();
  const server = await startServer({
    dirs: [],
    ledger: file,
    host: '127.0.0.1',
    port: 0,
    auth: { insecureLocal: true },
    webhooks: { github: process.env.BENCH_SERVER_SECRET },
  });
  process.on('message', async (m) => {
    if (m !== 'close') return;
    await server.close(0);
    process.exit(0);
  });
  process.send({ url: server.url });
}

/** A push payload about the size GitHub sends (its repository object holds ~90 fields): one commit. */
function pushTemplate() {
  const repository = {
    id: 1,
    name: 'app',
    full_name: 'bench/app',
    private: false,
    clone_url: REPO_URL,
    html_url: 'https://github.com/bench/app',
  };
  for (const k of [
    'forks',
    'keys',
    'collaborators',
    'teams',
    'hooks',
    'issue_events',
    'events',
    'assignees',
    'branches',
    'tags',
    'blobs',
    'git_tags',
    'git_refs',
    'trees',
    'statuses',
    'languages',
    'stargazers',
    'contributors',
    'subscribers',
    'subscription',
    'commits',
    'git_commits',
    'comments',
    'issue_comment',
    'contents',
    'compare',
    'merges',
    'archive',
    'downloads',
    'issues',
    'pulls',
    'milestones',
    'notifications',
    'labels',
    'releases',
    'deployments',
  ]) {
    repository[`${k}_url`] = `https://api.github.com/repos/bench/app/${k}{/id}`;
  }
  return {
    ref: 'refs/heads/main',
    before: '0'.repeat(40),
    created: false,
    deleted: false,
    forced: false,
    repository,
    pusher: { name: 'bench', email: 'bench@example.com' },
    sender: { login: 'bench', id: 1, type: 'User', site_admin: false },
  };
}

/** autocannon options that send signed, distinct push deliveries. */
function webhookLoad(url, secret, prefix) {
  const template = pushTemplate();
  let n = 0;
  return {
    url: `${url}/webhooks/github`,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          n += 1;
          const id = createHmac('sha1', prefix).update(String(n)).digest('hex');
          const commit = {
            id,
            message: `change ${n}`,
            timestamp: new Date().toISOString(),
            distinct: true,
            author: { name: 'bench', email: 'bench@example.com' },
          };
          const body = JSON.stringify({ ...template, after: id, commits: [commit], head_commit: commit });
          return {
            ...req,
            body,
            headers: {
              'content-type': 'application/json',
              'x-github-event': 'push',
              'x-github-hook-id': '1',
              'x-github-delivery': `${prefix}-${n}`,
              'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
            },
          };
        },
      },
    ],
  };
}

function figures(r) {
  return {
    requests: r.requests.total,
    requests_per_s: Math.round(r.requests.average),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    max_ms: r.latency.max,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    ok2xx: r['2xx'],
  };
}

export async function benchServer() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-bench-server-'));
  const ledgerFile = path.join(dir, 'ledger.db');
  const secret = randomBytes(32).toString('hex');
  const server = fork(self, [], {
    env: { ...process.env, BENCH_SERVER_CHILD: '1', BENCH_SERVER_LEDGER: ledgerFile, BENCH_SERVER_SECRET: secret },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise((resolve) => server.once('exit', resolve));
  try {
    const { url } = await new Promise((resolve, reject) => {
      server.once('message', resolve);
      server.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening`)));
    });
    const webhooks = figures(await autocannon(webhookLoad(url, secret, 'a')));
    const [underLoad, scrapes] = await Promise.all([
      autocannon(webhookLoad(url, secret, 'b')),
      autocannon({ url: `${url}/metrics`, connections: 1, duration: SECONDS }),
    ]);
    const [underPaced, paced] = await Promise.all([
      autocannon(webhookLoad(url, secret, 'c')),
      autocannon({ url: `${url}/metrics`, connections: 1, overallRate: 1, duration: SECONDS }),
    ]);
    server.send('close');
    await exited;
    const { openLedger } = await import(dist('ledger/index.js'));
    const ledger = openLedger(ledgerFile);
    const recorded = (await ledger.pendingChanges(REPO_URL)).length;
    await ledger.close();
    // Deliveries still in flight when autocannon stopped counting are recorded but not counted: at most one per connection.
    const accepted = webhooks.ok2xx + underLoad['2xx'] + underPaced['2xx'];
    return {
      machine: `${os.cpus().length} cpus, load average ${os.loadavg()[0].toFixed(1)} at the end, server and load generator in separate processes`,
      goals: { webhooks_requests_per_s: 2000, webhooks_p99_ms: 50 },
      seededDeployments: DEPLOYMENTS,
      webhooks,
      metricsUnderLoad: {
        saturating: { webhooks: figures(underLoad), metrics: figures(scrapes) },
        paced: { webhooks: figures(underPaced), metrics: figures(paced) },
      },
      check: {
        deliveries2xx: accepted,
        changesRecorded: recorded,
        consistent: recorded >= accepted && recorded - accepted <= 3 * CONNECTIONS,
      },
    };
  } finally {
    if (server.exitCode === null) server.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env.BENCH_SERVER_CHILD === '1' && process.send) await child();

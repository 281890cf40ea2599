// Ledger figures (issue 13): ingesting 1M events through the store (LedgerStore.recordMany, in
// batches of 10,000 as `ledger import` writes them) into SQLite and into PostgreSQL (a server of
// the benchmark's own on loopback, PostgreSQL's default durability), then each metric over all
// of them, cold (computed from the store) and warm (the same question again: answered from the
// cache until a new event changes the ledger), and cold over the last 30 days (show-metrics' default window). Goals: ingest < 30 s on SQLite, a metric < 100 ms.
// Beside SQLite's ingest, its floor (ledger-floor.js): the rows that ingest left, written again
// by better-sqlite3 alone, and the ratio of the two.
// BENCH_LEDGER_EVENTS changes the count (default 1,000,000).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { startPostgres } from '../test/helpers/postgres-server.mjs';
import { seeded } from '../test/helpers/seeded.mjs';
import { ledgerFloor } from './ledger-floor.js';

const dist = (p) => pathToFileURL(path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'dist', p)).href;
const EVENTS = Number(process.env.BENCH_LEDGER_EVENTS ?? 1_000_000);
const BATCH = 10_000;
const FROM = Date.parse('2024-01-01T00:00:00.000Z');
const SPAN_MS = 2 * 365 * 86_400_000;
const TYPES = ['blue-green', 'canary', 'rolling', 'big-bang'];

/** `count` deployments over two years (97 % of them), rollbacks for the rest, in batches. */
function* batches(count) {
  const random = seeded(13);
  const step = SPAN_MS / count;
  let deployments = [];
  let rollbacks = [];
  for (let i = 0; i < count; i++) {
    const started = new Date(FROM + i * step).toISOString();
    const service = `svc-${Math.floor(random() * 50)}`;
    const environment = random() < 0.6 ? 'prod' : 'staging';
    if (random() < 0.03) {
      rollbacks.push({
        id: `r${i}`,
        stack: 'bench',
        service,
        environment,
        fromVersion: `v${i}`,
        toVersion: `v${i - 1}`,
        reason: 'bench',
        at: started,
      });
    } else {
      const r = random();
      const status = r < 0.9 ? 'success' : r < 0.96 ? 'failed' : r < 0.99 ? 'rolled-back' : 'in-progress';
      const completed = status === 'in-progress' ? null : new Date(FROM + i * step + 120_000).toISOString();
      const committed = new Date(FROM + i * step - Math.floor(random() * 86_400_000)).toISOString();
      deployments.push({
        id: `d${i}`,
        stack: 'bench',
        service,
        version: `v${i}`,
        environment,
        type: TYPES[i % 4],
        started,
        completed,
        status,
        initiator: 'bench@host',
        metadata: { changes: [{ commit: `c${i}`, committedAt: committed }] },
        parentId: `run-${i}`,
      });
    }
    if (deployments.length + rollbacks.length === BATCH) {
      yield { deployments, rollbacks };
      deployments = [];
      rollbacks = [];
    }
  }
  if (deployments.length + rollbacks.length > 0) yield { deployments, rollbacks };
}

async function measure(openLedger, location, queryMetric, METRIC_NAMES) {
  const store = openLedger(location);
  try {
    // Only the store's work is timed, not the generation of each batch.
    let ingestMs = 0;
    for (const batch of batches(EVENTS)) {
      const t0 = performance.now();
      await store.recordMany(batch);
      ingestMs += performance.now() - t0;
    }
    const ingestS = Math.round(ingestMs / 100) / 10;
    const metrics = {};
    const window = { from: new Date(FROM).toISOString(), to: new Date(FROM + SPAN_MS).toISOString() };
    for (const metric of METRIC_NAMES) {
      const query = { metric, window, timeZone: 'UTC', environments: 'production' };
      const c0 = performance.now();
      const cold = await queryMetric(store, query);
      const coldMs = performance.now() - c0;
      const w0 = performance.now();
      await queryMetric(store, query);
      const warmMs = performance.now() - w0;
      // The window show-metrics takes by default: the last 30 days (of the generated two years).
      const last30 = { from: new Date(FROM + SPAN_MS - 30 * 86_400_000).toISOString(), to: window.to };
      const r0 = performance.now();
      await queryMetric(store, { ...query, window: last30 });
      const recentMs = performance.now() - r0;
      metrics[metric] = {
        cold_ms: Math.round(coldMs),
        warm_ms: Math.round(warmMs * 100) / 100,
        cold_last_30_days_ms: Math.round(recentMs),
        value: cold[0].value,
        counted: cold[0].counted,
      };
    }
    return { events: EVENTS, ingest_s: ingestS, events_per_s: Math.round(EVENTS / ingestS), metrics };
  } finally {
    await store.close();
  }
}

export async function benchLedger() {
  const { openLedger } = await import(dist('ledger/index.js'));
  const { SQLITE_SETTINGS } = await import(dist('ledger/sqlite.js'));
  const { queryMetric } = await import(dist('ledger/metric-query.js'));
  const { METRIC_NAMES } = await import(dist('ledger/metrics.js'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-bench-ledger-'));
  const server = await startPostgres({ durable: true });
  try {
    const sqliteFile = path.join(dir, 'ledger.db');
    const sqlite = await measure(openLedger, sqliteFile, queryMetric, METRIC_NAMES);
    sqlite.floor = await ledgerFloor(openLedger, SQLITE_SETTINGS, sqliteFile, Math.ceil(EVENTS / BATCH));
    sqlite.ingest_over_floor = Math.round((sqlite.ingest_s / sqlite.floor.floor_s) * 100) / 100;
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE bench_ledger');
    await admin.end();
    const postgres = await measure(openLedger, server.url.replace(/\/postgres$/, '/bench_ledger'), queryMetric, METRIC_NAMES);
    return { goals: { ingest_s: 30, metric_ms: 100 }, sqlite, postgres };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

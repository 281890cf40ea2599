// Shared-state figures: lock acquire+release latency (DynamoDB on dynalite, and the file lock),
// read/write of a 10,000-component state (S3 on s3rver, and the file store), and a race of 4
// processes over 10,000 acquisitions of one DynamoDB lock, whose journal must show no overlap.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { lockRace, overlaps } from '../test/helpers/lock-race-run.mjs';

const dist = (p) => pathToFileURL(path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'dist', p)).href;

function percentiles(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q) => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))] * 100) / 100;
  return { runs: s.length, median_ms: at(0.5), p99_ms: at(0.99), max_ms: at(1) };
}

async function lockLatency(manager, n) {
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const lock = await manager.acquire({
      lockKey: 'stack:bench:env:dev',
      ttlMs: 60_000,
      lockedBy: 'bench@host',
      metadata: { operation: 'bench' },
    });
    await manager.release(lock.lockKey, lock.lockId);
    samples.push(performance.now() - t0);
  }
  return percentiles(samples);
}

function bigState(emptyState, n) {
  const components = {};
  for (let i = 0; i < n; i++) {
    components[`svc${Math.floor(i / 10)}/comp${i % 10}`] = {
      kind: 'MicroService',
      target: 'local',
      specHash: `${i}`.padStart(64, 'a'),
      inputsHash: `${i}`.padStart(64, 'b'),
      spec: { port: 8000 + (i % 1000), image: `registry.example.com/svc${i}:1.0.${i}`, env: { LOG_LEVEL: 'info', REGION: 'eu-west-1' } },
      outputs: { url: `http://127.0.0.1:${8000 + (i % 1000)}`, pid: 1000 + i },
      dependsOn: i % 10 ? [`svc${Math.floor(i / 10)}/comp0`] : [],
      pulumiStack: `bench.dev.svc${Math.floor(i / 10)}.comp${i % 10}`,
      status: 'deployed',
      deploymentId: 'run-1',
      updatedAt: new Date().toISOString(),
    };
  }
  return { ...emptyState('bench', 'dev'), components };
}

async function stateReadWrite(store, emptyState, n, runs) {
  let state = await store.write(bigState(emptyState, n));
  const bytes = Buffer.byteLength(JSON.stringify(state, null, 2));
  const reads = [];
  const writes = [];
  for (let i = 0; i < runs; i++) {
    let t0 = performance.now();
    state = await store.read('bench', 'dev');
    reads.push(performance.now() - t0);
    t0 = performance.now();
    state = await store.write({
      ...state,
      components: { ...state.components, 'svc0/comp0': { ...state.components['svc0/comp0'], updatedAt: new Date().toISOString() } },
    });
    writes.push(performance.now() - t0);
  }
  return { components: n, state_bytes: bytes, read: percentiles(reads), write: percentiles(writes) };
}

/** 4 processes, 2,500 acquisitions each, of one lock: every hold journaled, none may overlap. */
async function race(url, journal) {
  const t0 = performance.now();
  const { holds, stderr, codes } = await lockRace({ url, journal, processes: 4, each: 2500, ttlMs: 10_000 });
  if (stderr || codes.some((c) => c !== 0)) throw new Error(`a racer failed (${codes.join(', ')}):\n${stderr}`);
  return {
    acquisitions: holds.length,
    processes: 4,
    overlapping: overlaps(holds).length,
    expired: holds.filter((h) => h.expired).length,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
}

export async function benchSharedState({ lockRuns = 1000, stateRuns = 5 } = {}) {
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' });
  const { DynamoDbLockManager, dynamoDbClient } = await import(dist('lock/dynamodb.js'));
  const { FileLockManager } = await import(dist('lock/file.js'));
  const { S3StateStore, parseS3Url, s3Client } = await import(dist('state/s3.js'));
  const { FileStateStore } = await import(dist('state/file.js'));
  const { emptyState } = await import(dist('state/index.js'));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'deployer-bench-shared-'));
  const dyn = dynalite({ createTableMs: 0 });
  await new Promise((r) => dyn.listen(0, '127.0.0.1', r));
  const dynEndpoint = `http://127.0.0.1:${dyn.address().port}`;
  const s3 = new S3rver({ port: 0, address: '127.0.0.1', directory: path.join(tmp, 's3'), silent: true });
  const { port } = await s3.run();
  const s3Endpoint = `http://127.0.0.1:${port}`;
  try {
    await (
      await dynamoDbClient({ region: 'us-east-1', endpoint: dynEndpoint })
    ).send(
      new CreateTableCommand({
        TableName: 'locks',
        KeySchema: [{ AttributeName: 'lockKey', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'lockKey', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const loc = parseS3Url(`s3://bench-state/p?region=us-east-1&endpoint=${encodeURIComponent(s3Endpoint)}`);
    await (await s3Client(loc)).send(new CreateBucketCommand({ Bucket: 'bench-state' }));
    return {
      lockAcquireRelease: {
        dynamodb_dynalite: await lockLatency(
          new DynamoDbLockManager({ table: 'locks', region: 'us-east-1', endpoint: dynEndpoint }),
          lockRuns,
        ),
        file: await lockLatency(new FileLockManager(path.join(tmp, 'locks')), lockRuns),
      },
      state10k: {
        s3_s3rver: await stateReadWrite(new S3StateStore(loc), emptyState, 10_000, stateRuns),
        file: await stateReadWrite(new FileStateStore(path.join(tmp, 'state')), emptyState, 10_000, stateRuns),
      },
      lockRace10k: await race(
        `dynamodb://locks?region=us-east-1&endpoint=${encodeURIComponent(dynEndpoint)}`,
        path.join(tmp, 'journal.ndjson'),
      ),
    };
  } finally {
    await s3.close();
    dyn.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

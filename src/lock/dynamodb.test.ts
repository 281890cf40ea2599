/** The DynamoDB LockManager against dynalite on loopback: the shared contract, then its own. */
import path from 'node:path';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMULATOR_CREDENTIALS, startDynamoDb, type DynamoDbEmulator } from '../../test/helpers/emulators.js';
import { lockRace, overlaps, requireFreshBuild } from '../../test/helpers/lock-race.js';
import { InvalidInputError, LockHeldError } from '../errors.js';
import { DynamoDbLockManager, parseDynamoDbUrl } from './dynamodb.js';
import { openLockManager } from './index.js';
import { lockManagerContract, request } from './locker.contract.js';
import { stackLockKey } from './locker.js';

const tempDir = useTempDirs('race');
let dynamo: DynamoDbEmulator;
let tableNo = 0;
beforeAll(async () => {
  dynamo = await startDynamoDb();
});
afterAll(async () => {
  await dynamo.close();
});

async function freshManager(): Promise<DynamoDbLockManager> {
  return new DynamoDbLockManager(parseDynamoDbUrl(await dynamo.lockUrl(`locks-${++tableNo}`)));
}

lockManagerContract('dynamodb (dynalite)', async () => ({ manager: await freshManager() }), { expiryResolutionMs: 1000 });

describe('DynamoDbLockManager', () => {
  it('lets exactly one of many concurrent acquirers win', async () => {
    const manager = await freshManager();
    const key = stackLockKey('web', 'prod');
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => manager.acquire(request(key, { lockedBy: `runner-${i}` }))),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(LockHeldError);
  });

  it('parses dynamodb:// URLs', () => {
    expect(parseDynamoDbUrl('dynamodb://my-locks?region=eu-west-1')).toEqual({ table: 'my-locks', region: 'eu-west-1' });
    expect(() => parseDynamoDbUrl('dynamodb://t?consistent=yes')).toThrow(InvalidInputError);
    expect(openLockManager('dynamodb://t?region=us-east-1', '/tmp')).toBeInstanceOf(DynamoDbLockManager);
  });
});

describe('DynamoDbLockManager across processes', () => {
  beforeAll(() => requireFreshBuild());

  // The 10,000-acquisition race is in the benchmark (BENCH_ONLY=sharedState): too long for every test run.
  it('never lets two of 4 processes hold the lock at once over 1,000 acquisitions', async () => {
    const url = await dynamo.lockUrl('race');
    const journal = path.join(tempDir(), 'journal.ndjson');
    const { holds, stderr, codes } = await lockRace({ url, journal, processes: 4, each: 250, ttlMs: 10_000, env: EMULATOR_CREDENTIALS });
    expect(stderr).toBe('');
    expect(codes).toEqual([0, 0, 0, 0]);
    expect(holds).toHaveLength(1_000);
    expect(new Set(holds.map((h) => h.pid)).size).toBe(4);
    expect(new Set(holds.map((h) => h.lockId)).size).toBe(1_000);
    expect(holds.filter((h) => h.expired)).toEqual([]);
    expect(overlaps(holds)).toEqual([]);
    expect(holds.filter((h) => !h.released)).toEqual([]);
  }, 600_000);
});

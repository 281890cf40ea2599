/** The DynamoDB LockManager against dynalite on loopback: the shared contract, then its own. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDb, type DynamoDbEmulator } from '../../test/helpers/emulators.js';
import { InvalidInputError, LockHeldError } from '../errors.js';
import { DynamoDbLockManager, parseDynamoDbUrl } from './dynamodb.js';
import { openLockManager } from './index.js';
import { lockManagerContract, request } from './locker.contract.js';
import { stackLockKey } from './locker.js';

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
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => manager.acquire(request(key, { lockedBy: `runner-${i}` }))));
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

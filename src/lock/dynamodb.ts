/**
 * LockManager on a DynamoDB table (default `deployer-state-locks`, key `lockKey`). Every
 * change is one conditional write, so the table decides atomically: acquire succeeds when the
 * key is absent or its lease expired (`attribute_not_exists(lockKey) OR expiresAt < :now`),
 * renew/release/force-unlock only when `lockId` still matches. `expiresAt` is epoch seconds,
 * the table's TTL attribute, rounded up so that a lease never ends early.
 */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvalidInputError, LockLostError } from '../errors.js';
import { dynamoDbClient, dynamoDbSdk } from '../util/aws.js';

export { dynamoDbClient };
import { newLock, type AcquiredLock, type AcquireRequest, type LockInfo, type LockManager } from './locker.js';
import { lockHeldError } from './unlock-hint.js';

export const DEFAULT_LOCK_TABLE = 'deployer-state-locks';

export interface DynamoDbLocation {
  table: string;
  region: string;
  endpoint?: string;
}

/** `dynamodb://deployer-state-locks?region=us-east-1&endpoint=http://127.0.0.1:4567` */
export function parseDynamoDbUrl(url: string): DynamoDbLocation {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidInputError(`invalid lock URL ${url}`, ['expected dynamodb://<table>?region=<region>']);
  }
  if (u.protocol !== 'dynamodb:') throw new InvalidInputError(`invalid lock URL ${url}: expected dynamodb://<table>`);
  const unknown = [...u.searchParams.keys()].filter((k) => k !== 'region' && k !== 'endpoint');
  if (unknown.length > 0)
    throw new InvalidInputError(`unknown option ${unknown.join(', ')} in lock URL ${url}`, ['known: region, endpoint']);
  const endpoint = u.searchParams.get('endpoint') ?? undefined;
  return {
    table: u.hostname || DEFAULT_LOCK_TABLE,
    region: u.searchParams.get('region') ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
  };
}

const seconds = (d: Date): string => String(Math.ceil(d.getTime() / 1000));

function toItem(l: LockInfo): Record<string, AttributeValue> {
  return {
    lockKey: { S: l.lockKey },
    lockId: { S: l.lockId },
    lockedBy: { S: l.lockedBy },
    lockedAt: { N: (l.lockedAt.getTime() / 1000).toFixed(3) },
    expiresAt: { N: seconds(l.expiresAt) },
    metadata: { M: Object.fromEntries(Object.entries(l.metadata).map(([k, v]) => [k, { S: v }])) },
  };
}

function fromItem(item: Record<string, AttributeValue>): LockInfo {
  return {
    lockKey: item['lockKey']!.S!,
    lockId: item['lockId']?.S ?? '',
    lockedBy: item['lockedBy']?.S ?? 'unknown',
    lockedAt: new Date(Number(item['lockedAt']?.N ?? '0') * 1000),
    expiresAt: new Date(Number(item['expiresAt']?.N ?? '0') * 1000),
    metadata: Object.fromEntries(Object.entries(item['metadata']?.M ?? {}).map(([k, v]) => [k, v.S ?? ''])),
  };
}

function conditionFailed(err: unknown): boolean {
  return (err as { name?: string }).name === 'ConditionalCheckFailedException';
}

export class DynamoDbLockManager implements LockManager {
  readonly url: string;
  cliFlags = '';

  private readonly clientPromise: Promise<DynamoDBClient>;

  constructor(
    private readonly loc: DynamoDbLocation,
    client?: DynamoDBClient,
  ) {
    this.url = `dynamodb://${loc.table}`;
    this.clientPromise = client ? Promise.resolve(client) : dynamoDbClient(loc);
    this.clientPromise.catch(() => undefined);
  }

  /** The client and the SDK's command classes (loaded on first use). */
  private async sdk() {
    return { client: await this.clientPromise, ...(await dynamoDbSdk()) };
  }

  async acquire(req: AcquireRequest): Promise<AcquiredLock> {
    // A lock released between the refused write and the read is simply tried again (under heavy
    // contention that can happen a few times in a row; fifty times would mean something is wrong).
    for (let attempt = 0; attempt < 50; attempt++) {
      const now = new Date();
      // What the table will hold (expiry in whole seconds), so callers see what `status` reports.
      const lock = fromItem(toItem(newLock(req, now)));
      const { client, PutItemCommand } = await this.sdk();
      try {
        const r = await client.send(
          new PutItemCommand({
            TableName: this.loc.table,
            Item: toItem(lock),
            ConditionExpression: 'attribute_not_exists(lockKey) OR expiresAt < :now',
            ExpressionAttributeValues: { ':now': { N: String(Math.floor(now.getTime() / 1000)) } },
            ReturnValues: 'ALL_OLD',
          }),
        );
        return r.Attributes ? { ...lock, takenOverFrom: fromItem(r.Attributes) } : lock;
      } catch (err) {
        if (!conditionFailed(err)) throw err;
      }
      const holder = await this.status(req.lockKey);
      if (holder) throw lockHeldError(holder, this.cliFlags);
    }
    throw new LockLostError(req.lockKey, 'the lock kept changing hands while it was being taken; try again');
  }

  async renew(lockKey: string, lockId: string, ttlMs: number): Promise<LockInfo> {
    const { client, UpdateItemCommand } = await this.sdk();
    try {
      const r = await client.send(
        new UpdateItemCommand({
          TableName: this.loc.table,
          Key: { lockKey: { S: lockKey } },
          UpdateExpression: 'SET expiresAt = :e',
          ConditionExpression: 'lockId = :id',
          ExpressionAttributeValues: { ':e': { N: seconds(new Date(Date.now() + ttlMs)) }, ':id': { S: lockId } },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(r.Attributes!);
    } catch (err) {
      if (!conditionFailed(err)) throw err;
      const now = await this.status(lockKey);
      throw new LockLostError(
        lockKey,
        now ? `it is now held by ${now.lockedBy} (lock id ${now.lockId})` : 'the lock was released or force-unlocked',
      );
    }
  }

  async release(lockKey: string, lockId: string): Promise<boolean> {
    const { client, DeleteItemCommand } = await this.sdk();
    try {
      await client.send(
        new DeleteItemCommand({
          TableName: this.loc.table,
          Key: { lockKey: { S: lockKey } },
          ConditionExpression: 'lockId = :id',
          ExpressionAttributeValues: { ':id': { S: lockId } },
        }),
      );
      return true;
    } catch (err) {
      if (conditionFailed(err)) return false;
      throw err;
    }
  }

  forceUnlock(lockKey: string, lockId: string): Promise<boolean> {
    return this.release(lockKey, lockId);
  }

  async status(lockKey: string): Promise<LockInfo | undefined> {
    const { client, GetItemCommand } = await this.sdk();
    const r = await client.send(new GetItemCommand({ TableName: this.loc.table, Key: { lockKey: { S: lockKey } }, ConsistentRead: true }));
    return r.Item ? fromItem(r.Item) : undefined;
  }

  async list(prefix: string): Promise<LockInfo[]> {
    const out: LockInfo[] = [];
    const { client, ScanCommand } = await this.sdk();
    let start: Record<string, AttributeValue> | undefined;
    do {
      const r = await client.send(
        new ScanCommand({
          TableName: this.loc.table,
          ConsistentRead: true,
          FilterExpression: 'begins_with(lockKey, :p)',
          ExpressionAttributeValues: { ':p': { S: prefix } },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of r.Items ?? []) out.push(fromItem(item));
      start = r.LastEvaluatedKey;
    } while (start);
    return out.sort((a, b) => a.lockKey.localeCompare(b.lockKey));
  }
}

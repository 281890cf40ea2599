/**
 * DynamoDB on AWS: a table with its keys and the attributes they name, on-demand or provisioned
 * capacity (the global secondary indexes with the table's), its global secondary indexes, TTL,
 * stream and table class. Encrypted always: with the spec's KMS key (or AWS's managed key) when
 * `encryption.enabled`, with an AWS owned key otherwise. Point-in-time recovery is on in
 * production (and keeps `backup.retentionDays` when given), deletion protection too. A table is
 * not in the VPC. Alarms: throttles (reads and writes, each its own alarm).
 */
import type { AwsScope, Outputs } from '../scope.js';
import { addStoreAlarms, protection, type DataSpec } from './data-common.js';

type AttributeType = 'string' | 'number' | 'binary';
interface Key {
  name: string;
  type?: AttributeType;
}

interface DynamoDbSpec extends DataSpec {
  tableName?: string;
  partitionKey: Key;
  sortKey?: Key;
  billingMode?: 'on-demand' | 'provisioned';
  capacity?: { read: number; write: number };
  globalSecondaryIndexes?: Array<{
    name: string;
    partitionKey: Key;
    sortKey?: Key;
    projection?: 'all' | 'keys-only' | 'include';
    nonKeyAttributes?: string[];
  }>;
  ttlAttribute?: string;
  stream?: { enabled: boolean; viewType?: 'keys-only' | 'new-image' | 'old-image' | 'new-and-old-images' };
  pointInTimeRecovery?: boolean;
  tableClass?: 'standard' | 'standard-infrequent-access';
}

const TYPES: Record<AttributeType, string> = { string: 'S', number: 'N', binary: 'B' };
const PROJECTIONS = { all: 'ALL', 'keys-only': 'KEYS_ONLY', include: 'INCLUDE' } as const;

/** Every attribute a key of the table or an index names, once (DynamoDB refuses any other). */
function attributes(spec: DynamoDbSpec): Array<{ name: string; type: string }> {
  const keys = [spec.partitionKey, spec.sortKey, ...(spec.globalSecondaryIndexes ?? []).flatMap((g) => [g.partitionKey, g.sortKey])];
  const byName = new Map<string, string>();
  for (const k of keys) if (k && !byName.has(k.name)) byName.set(k.name, TYPES[k.type ?? 'string']);
  return [...byName].sort(([a], [b]) => a.localeCompare(b)).map(([name, type]) => ({ name, type }));
}

/** Point-in-time recovery: the spec's (`backup.retentionDays` the days it keeps, 0 none), else on in production. */
function recovery(scope: AwsScope, spec: DynamoDbSpec): { enabled: boolean; recoveryPeriodInDays?: number } {
  const days = spec.backup?.retentionDays;
  const enabled = spec.pointInTimeRecovery ?? (days !== undefined ? days > 0 : scope.isProduction);
  if (spec.backup?.window)
    scope.pulumi.log.warn(`${scope.id}: point-in-time recovery is continuous; backup.window is not used by DynamoDB`);
  return enabled && days ? { enabled, recoveryPeriodInDays: Math.min(35, days) } : { enabled };
}

/** The global secondary indexes (with the table's capacity when provisioned), when there are any. */
function indexes(spec: DynamoDbSpec, capacity: { readCapacity?: number; writeCapacity?: number }) {
  const gsis = spec.globalSecondaryIndexes ?? [];
  if (gsis.length === 0) return {};
  return {
    globalSecondaryIndexes: gsis.map((g) => ({
      name: g.name,
      keySchemas: [
        { attributeName: g.partitionKey.name, keyType: 'HASH' },
        ...(g.sortKey ? [{ attributeName: g.sortKey.name, keyType: 'RANGE' }] : []),
      ],
      projectionType: PROJECTIONS[g.projection ?? 'all'],
      ...(g.projection === 'include' ? { nonKeyAttributes: g.nonKeyAttributes ?? [] } : {}),
      ...capacity,
    })),
  };
}

export function translateDynamoDB(scope: AwsScope): Outputs {
  const { aws } = scope;
  const spec = scope.spec as unknown as DynamoDbSpec;
  const provisioned = spec.billingMode === 'provisioned';
  const capacity = provisioned && spec.capacity ? { readCapacity: spec.capacity.read, writeCapacity: spec.capacity.write } : {};
  const { deletionProtection, opts } = protection(scope);
  const streamed = spec.stream?.enabled === true;
  const table = new aws.dynamodb.Table(
    'table',
    {
      name: spec.tableName ?? scope.physicalName({ max: 255 }),
      billingMode: provisioned ? 'PROVISIONED' : 'PAY_PER_REQUEST',
      ...capacity,
      hashKey: spec.partitionKey.name,
      ...(spec.sortKey ? { rangeKey: spec.sortKey.name } : {}),
      attributes: attributes(spec),
      ...indexes(spec, capacity),
      ...(spec.ttlAttribute ? { ttl: { attributeName: spec.ttlAttribute, enabled: true } } : {}),
      streamEnabled: streamed,
      ...(streamed ? { streamViewType: (spec.stream!.viewType ?? 'new-and-old-images').toUpperCase().replaceAll('-', '_') } : {}),
      pointInTimeRecovery: recovery(scope, spec),
      // Without encryption.enabled DynamoDB still encrypts, with a key AWS owns.
      ...(spec.encryption?.enabled
        ? {
            serverSideEncryption: {
              enabled: true,
              ...(spec.encryption.kmsKeyId ? { kmsKeyArn: scope.kmsKey(spec.encryption.kmsKeyId)! } : {}),
            },
          }
        : {}),
      tableClass: spec.tableClass === 'standard-infrequent-access' ? 'STANDARD_INFREQUENT_ACCESS' : 'STANDARD',
      deletionProtectionEnabled: deletionProtection,
    },
    scope.opts(opts),
  );
  const throttles = (metricName: string) => ({
    catalog: { throttles: { namespace: 'AWS/DynamoDB', metricName, dimensions: { TableName: table.name }, statistic: 'Sum' } },
  });
  addStoreAlarms(scope, [
    { suffix: 'reads', label: 'reads', ...throttles('ReadThrottleEvents') },
    { suffix: 'writes', label: 'writes', ...throttles('WriteThrottleEvents') },
  ]);
  return { tableName: table.name, arn: table.arn, streamArn: streamed ? table.streamArn : '' };
}

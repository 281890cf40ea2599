/** `deployer bootstrap` through the AWS SDK against s3rver and dynalite. */
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployer, deployerJson } from '../../test/helpers/cli.js';
import { startDynamoDb, startS3, type DynamoDbEmulator, type S3Emulator } from '../../test/helpers/emulators.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { dynamoDbClient } from '../lock/dynamodb.js';
import { s3Client } from '../state/s3.js';

let s3: S3Emulator;
let dynamo: DynamoDbEmulator;
const tempDir = useTempDirs('bootstrap');
beforeAll(async () => {
  [s3, dynamo] = await Promise.all([startS3(), startDynamoDb()]);
});
afterAll(async () => {
  await Promise.all([s3.close(), dynamo.close()]);
});

describe('deployer bootstrap (sdk)', () => {
  it('creates the bucket and the table, then finds them on a second run', async () => {
    const state = `s3://fresh-team-state/prod?region=us-east-1&endpoint=${encodeURIComponent(s3.endpoint)}`;
    const lock = `dynamodb://fresh-locks?region=us-east-1&endpoint=${encodeURIComponent(dynamo.endpoint)}`;
    const args = ['bootstrap', '-C', tempDir(), '--state-url', state, '--lock-url', lock];
    const first = await deployerJson<{ engine: string; steps: Array<{ step: string; status: string }> }>(args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.engine).toBe('sdk');
    const status = Object.fromEntries(first.json.steps.map((s) => [s.step, s.status]));
    expect(status).toMatchObject({ 'bucket fresh-team-state': 'created', 'table fresh-locks': 'created' });
    // Every configuration step either took effect or says the emulator lacks it.
    for (const s of first.json.steps) expect(['created', 'configured', 'unsupported']).toContain(s.status);

    await (
      await s3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true })
    ).send(new HeadBucketCommand({ Bucket: 'fresh-team-state' }));
    const table = await (
      await dynamoDbClient({ region: 'us-east-1', endpoint: dynamo.endpoint })
    ).send(new DescribeTableCommand({ TableName: 'fresh-locks' }));
    expect(table.Table?.KeySchema).toEqual([{ AttributeName: 'lockKey', KeyType: 'HASH' }]);
    expect(table.Table?.BillingModeSummary?.BillingMode ?? 'PAY_PER_REQUEST').toBe('PAY_PER_REQUEST');

    const again = await deployer(args);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/bucket fresh-team-state +exists/);
    expect(again.stdout).toMatch(/table fresh-locks +exists/);
  });

  it('refuses URLs that are not S3 and DynamoDB', async () => {
    const r = await deployer(['bootstrap', '-C', tempDir(), '--state-url', 'file://.deployer', '--lock-url', 'file://.deployer']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bootstrap needs an s3:\/\/ state URL/);
  });
});

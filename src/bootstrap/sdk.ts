/**
 * `deployer bootstrap` through the AWS SDK, step by step and idempotent: for S3 clones and
 * emulators (an `endpoint` in the URLs), where Pulumi's AWS provider cannot be used. A step an
 * endpoint does not implement is reported as such, not hidden.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import { CreateTableCommand, DescribeTableCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { dynamoDbClient, type DynamoDbLocation } from '../lock/dynamodb.js';
import { s3Client, type S3Location } from '../state/s3.js';

export type StepStatus = 'created' | 'exists' | 'configured' | 'unsupported';

export interface StepResult {
  step: string;
  status: StepStatus;
  detail?: string;
}

function errorName(err: unknown): string {
  return (err as { name?: string }).name ?? '';
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** Runs a configuration step; an endpoint answering "not implemented" is reported, anything else thrown. */
async function configure(step: string, run: () => Promise<unknown>): Promise<StepResult> {
  try {
    await run();
    return { step, status: 'configured' };
  } catch (err) {
    if (errorName(err) === 'NotImplemented' || httpStatus(err) === 501 || errorName(err) === 'UnknownOperationException') {
      return { step, status: 'unsupported', detail: 'this endpoint does not implement it; real S3/DynamoDB does' };
    }
    // Some S3 clones (s3rver) route a PUT of a bucket subresource they do not know to CreateBucket.
    if (errorName(err) === 'BucketAlreadyExists' || errorName(err) === 'BucketAlreadyOwnedByYou') {
      return { step, status: 'unsupported', detail: 'this endpoint answered it as a CreateBucket: it does not implement it' };
    }
    throw err;
  }
}

export async function bootstrapBucket(loc: S3Location): Promise<StepResult[]> {
  const client = await s3Client(loc);
  const Bucket = loc.bucket;
  const results: StepResult[] = [];
  let exists = true;
  try {
    await client.send(new HeadBucketCommand({ Bucket }));
  } catch (err) {
    if (httpStatus(err) !== 404 && errorName(err) !== 'NotFound') throw err;
    exists = false;
  }
  if (exists) results.push({ step: `bucket ${Bucket}`, status: 'exists' });
  else {
    const location =
      loc.region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: loc.region as BucketLocationConstraint } };
    await client.send(new CreateBucketCommand({ Bucket, ...location }));
    results.push({ step: `bucket ${Bucket}`, status: 'created' });
  }
  results.push(
    await configure('versioning', () =>
      client.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } })),
    ),
  );
  results.push(
    await configure(`default encryption (${loc.sse})`, () =>
      client.send(
        new PutBucketEncryptionCommand({
          Bucket,
          ServerSideEncryptionConfiguration: {
            Rules: [
              { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: loc.sse, ...(loc.kmsKeyId ? { KMSMasterKeyID: loc.kmsKeyId } : {}) } },
            ],
          },
        }),
      ),
    ),
  );
  results.push(
    await configure('public access block', () =>
      client.send(
        new PutPublicAccessBlockCommand({
          Bucket,
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
        }),
      ),
    ),
  );
  return results;
}

export async function bootstrapTable(loc: DynamoDbLocation): Promise<StepResult[]> {
  const client = await dynamoDbClient(loc);
  const TableName = loc.table;
  const results: StepResult[] = [];
  try {
    await client.send(new DescribeTableCommand({ TableName }));
    results.push({ step: `table ${TableName}`, status: 'exists' });
  } catch (err) {
    if (errorName(err) !== 'ResourceNotFoundException') throw err;
    await client.send(
      new CreateTableCommand({
        TableName,
        KeySchema: [{ AttributeName: 'lockKey', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'lockKey', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    for (let i = 0; i < 120; i++) {
      const d = await client.send(new DescribeTableCommand({ TableName }));
      if (d.Table?.TableStatus === 'ACTIVE') break;
      await sleep(500);
    }
    results.push({ step: `table ${TableName}`, status: 'created' });
  }
  results.push(
    await configure('TTL on expiresAt', () =>
      client.send(new UpdateTimeToLiveCommand({ TableName, TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } })),
    ),
  );
  return results;
}

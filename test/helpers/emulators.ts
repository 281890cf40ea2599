/**
 * S3 (s3rver) and DynamoDB (dynalite) emulators, started on loopback by the tests that need
 * them, on ports the OS picks. Each test file starts its own, so files run in parallel.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { s3Client } from '../../src/state/s3.js';
import { dynamoDbClient } from '../../src/lock/dynamodb.js';

/** s3rver checks request signatures against these; dynalite accepts anything. */
export const EMULATOR_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

/** Points the AWS SDK (and Pulumi's s3 backend, which inherits the environment) at the emulators' credentials. */
export function useEmulatorCredentials(): void {
  Object.assign(process.env, EMULATOR_CREDENTIALS);
}

export interface S3Emulator {
  endpoint: string;
  /** `s3://<bucket>/<prefix>?...` for deployer, creating the bucket. */
  stateUrl(bucket: string, prefix?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startS3(): Promise<S3Emulator> {
  useEmulatorCredentials();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-s3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', directory: dir, silent: true });
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const client = await s3Client({ region: 'us-east-1', endpoint, forcePathStyle: true });
  return {
    endpoint,
    async stateUrl(bucket, prefix = 'deployer') {
      await client.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: { name?: string }) => {
        if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err;
      });
      return `s3://${bucket}/${prefix}?region=us-east-1&endpoint=${encodeURIComponent(endpoint)}&forcePathStyle=true`;
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface DynamoDbEmulator {
  endpoint: string;
  /** `dynamodb://<table>?...` for deployer, creating the table. */
  lockUrl(table: string): Promise<string>;
  close(): Promise<void>;
}

export async function startDynamoDb(): Promise<DynamoDbEmulator> {
  useEmulatorCredentials();
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const client = await dynamoDbClient({ region: 'us-east-1', endpoint });
  return {
    endpoint,
    async lockUrl(table) {
      await client
        .send(
          new CreateTableCommand({
            TableName: table,
            KeySchema: [{ AttributeName: 'lockKey', KeyType: 'HASH' }],
            AttributeDefinitions: [{ AttributeName: 'lockKey', AttributeType: 'S' }],
            BillingMode: 'PAY_PER_REQUEST',
          }),
        )
        .catch((err: { name?: string }) => {
          if (err.name !== 'ResourceInUseException') throw err;
        });
      return `dynamodb://${table}?region=us-east-1&endpoint=${encodeURIComponent(endpoint)}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

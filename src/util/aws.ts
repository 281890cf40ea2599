/**
 * Shared AWS SDK setup: clients for S3 clones and emulators, and a quiet SDK on Node 20. The
 * SDK modules are loaded on first use: they cost a third of a second, which a run on local
 * state should not pay.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

let s3Module: Promise<typeof import('@aws-sdk/client-s3')> | undefined;
let dynamoModule: Promise<typeof import('@aws-sdk/client-dynamodb')> | undefined;

export function s3Sdk(): Promise<typeof import('@aws-sdk/client-s3')> {
  quietAwsSdk();
  return (s3Module ??= import('@aws-sdk/client-s3'));
}

export function dynamoDbSdk(): Promise<typeof import('@aws-sdk/client-dynamodb')> {
  quietAwsSdk();
  return (dynamoModule ??= import('@aws-sdk/client-dynamodb'));
}

/**
 * The AWS SDK warns on every process under Node 22 that future releases will need Node 22;
 * deployer supports Node 20.19+, pins the SDK, and says so in its README, so the warning would
 * only be noise in every command's output.
 */
export function quietAwsSdk(): void {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
}

export interface S3Endpoint {
  region: string;
  /** A custom endpoint (an S3 clone, or s3rver in tests). */
  endpoint?: string;
  forcePathStyle: boolean;
}

export async function s3Client(loc: S3Endpoint): Promise<S3Client> {
  const { S3Client } = await s3Sdk();
  return new S3Client({ region: loc.region, forcePathStyle: loc.forcePathStyle, ...(loc.endpoint ? { endpoint: loc.endpoint } : {}) });
}

export async function dynamoDbClient(loc: { region: string; endpoint?: string }): Promise<DynamoDBClient> {
  const { DynamoDBClient } = await dynamoDbSdk();
  return new DynamoDBClient({ region: loc.region, ...(loc.endpoint ? { endpoint: loc.endpoint } : {}) });
}

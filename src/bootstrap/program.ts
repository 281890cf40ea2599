/**
 * The Pulumi program of `deployer bootstrap` (the project's Pulumi.yaml program): the S3 bucket
 * of the state (versioned, encrypted, no public access) and the DynamoDB table of the locks
 * (on demand, `lockKey` key, TTL on `expiresAt`).
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

export interface BootstrapSpec {
  bucket: string;
  table: string;
  region: string;
  /** KMS key for the bucket's default encryption (AES256 when absent). */
  kmsKeyId?: string;
}

export interface BootstrapOutputs {
  bucket: pulumi.Output<string>;
  bucketArn: pulumi.Output<string>;
  table: pulumi.Output<string>;
  tableArn: pulumi.Output<string>;
}

export function bootstrapProgram(spec: BootstrapSpec): BootstrapOutputs {
  const tags = { 'managed-by': 'deployer', purpose: 'deployer-state' };
  const bucket = new aws.s3.Bucket('state', { bucket: spec.bucket, region: spec.region, forceDestroy: false, tags });
  new aws.s3.BucketVersioning('state', { bucket: bucket.id, region: spec.region, versioningConfiguration: { status: 'Enabled' } });
  new aws.s3.BucketServerSideEncryptionConfiguration('state', {
    bucket: bucket.id,
    region: spec.region,
    rules: [
      {
        applyServerSideEncryptionByDefault: spec.kmsKeyId
          ? { sseAlgorithm: 'aws:kms', kmsMasterKeyId: spec.kmsKeyId }
          : { sseAlgorithm: 'AES256' },
        bucketKeyEnabled: spec.kmsKeyId !== undefined,
      },
    ],
  });
  new aws.s3.BucketPublicAccessBlock('state', {
    bucket: bucket.id,
    region: spec.region,
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  });
  const table = new aws.dynamodb.Table('locks', {
    name: spec.table,
    region: spec.region,
    billingMode: 'PAY_PER_REQUEST',
    hashKey: 'lockKey',
    attributes: [{ name: 'lockKey', type: 'S' }],
    ttl: { attributeName: 'expiresAt', enabled: true },
    pointInTimeRecovery: { enabled: true },
    tags,
  });
  return { bucket: bucket.bucket, bucketArn: bucket.arn, table: table.name, tableArn: table.arn };
}

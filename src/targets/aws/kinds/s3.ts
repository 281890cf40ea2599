/**
 * S3 on AWS: a bucket that is private, TLS-only and owner-enforced (no ACLs) unless told
 * otherwise, with its versioning, server-side encryption (S3-managed, or a KMS key of the stack
 * by name), lifecycle rules, CORS, website hosting and Object Lock each as the resource AWS
 * keeps them in. `deletionProtection` protects the bucket in Pulumi: a destroy refuses it.
 */
import type { AwsScope, Outputs } from '../scope.js';
import type { Output } from '@pulumi/pulumi';
import { policyDocument, type IamStatement } from '../iam.js';

interface S3Spec {
  bucketName?: string;
  versioning?: boolean;
  encryption?: { enabled?: boolean; algorithm?: 'AES256' | 'aws:kms'; kmsKeyId?: string };
  publicAccess?: boolean;
  forceDestroy?: boolean;
  lifecycle?: Array<{
    name?: string;
    prefix?: string;
    expirationDays?: number;
    noncurrentExpirationDays?: number;
    abortIncompleteUploadDays?: number;
    transitions?: Array<{ days: number; storageClass: string }>;
  }>;
  cors?: Array<{
    allowedOrigins: string[];
    allowedMethods: string[];
    allowedHeaders?: string[];
    exposeHeaders?: string[];
    maxAgeSeconds?: number;
  }>;
  website?: { indexDocument?: string; errorDocument?: string };
  objectLock?: { mode: 'governance' | 'compliance'; days: number };
  deletionProtection?: boolean;
}

/**
 * The bucket's one policy: TLS only, and what the stack's other components do with it
 * (StackInfra.bucketAccess): their logs written by AWS's log delivery under their prefix, its
 * objects read by the account's CloudFront distributions (through their origin access control).
 */
function bucketPolicy(scope: AwsScope, bucketArn: Output<string>): Output<string> {
  const { aws, pulumi } = scope;
  const uses = scope.infra.bucketAccess ?? [];
  const account = uses.length > 0 ? aws.getCallerIdentityOutput({}, { provider: scope.provider }).accountId : pulumi.output('');
  const elb = uses.some((u) => u.access === 'alb-logs')
    ? aws.elb.getServiceAccountOutput({}, { provider: scope.provider }).arn
    : pulumi.output('');
  return pulumi.all([bucketArn, account, elb]).apply(([arn, accountId, elbAccount]) => {
    const under = (prefix: string | undefined): string => (prefix ? `${arn}/${prefix}` : arn);
    const statements: IamStatement[] = [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: ['s3:*'],
        Resource: [arn, `${arn}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ];
    for (const u of uses) {
      const sid = u.component.replace(/[^A-Za-z0-9]/g, '');
      if (u.access === 'alb-logs')
        // Elastic Load Balancing writes as its regional account (older regions) or its log delivery principal (newer ones).
        statements.push({
          Sid: `${sid}AccessLogs`,
          Effect: 'Allow',
          Principal: { AWS: elbAccount, Service: 'logdelivery.elasticloadbalancing.amazonaws.com' },
          Action: ['s3:PutObject'],
          Resource: [`${under(u.prefix)}/AWSLogs/${accountId}/*`],
        });
      if (u.access === 'log-delivery')
        statements.push(
          {
            Sid: `${sid}LogDelivery`,
            Effect: 'Allow',
            Principal: { Service: 'delivery.logs.amazonaws.com' },
            Action: ['s3:PutObject'],
            Resource: [`${under(u.prefix)}/*`],
            Condition: { StringEquals: { 'aws:SourceAccount': accountId } },
          },
          {
            Sid: `${sid}LogDeliveryCheck`,
            Effect: 'Allow',
            Principal: { Service: 'delivery.logs.amazonaws.com' },
            Action: ['s3:GetBucketAcl', 's3:ListBucket'],
            Resource: [arn],
            Condition: { StringEquals: { 'aws:SourceAccount': accountId } },
          },
        );
      if (u.access === 'cloudfront-read')
        // The distribution's own ARN would be a cycle (it is made after the bucket): the account's distributions.
        statements.push({
          Sid: `${sid}Read`,
          Effect: 'Allow',
          Principal: { Service: 'cloudfront.amazonaws.com' },
          Action: ['s3:GetObject'],
          Resource: [`${arn}/*`],
          Condition: { StringLike: { 'AWS:SourceArn': `arn:aws:cloudfront::${accountId}:distribution/*` } },
        });
    }
    return policyDocument(statements.filter((x, i) => statements.findIndex((y) => y.Sid === x.Sid) === i));
  });
}

export function translateS3(scope: AwsScope): Outputs {
  const { aws } = scope;
  const spec = scope.spec as S3Spec;
  const bucket = new aws.s3.Bucket(
    'bucket',
    {
      bucket: spec.bucketName ?? scope.physicalName({ max: 63, lowercase: true }),
      forceDestroy: spec.forceDestroy ?? false,
      ...(spec.objectLock ? { objectLockEnabled: true } : {}),
    },
    scope.opts(spec.deletionProtection ? { protect: true } : {}),
  );
  const child = scope.opts({ parent: bucket });
  new aws.s3.BucketOwnershipControls('ownership', { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } }, child);
  const open = spec.publicAccess === true;
  new aws.s3.BucketPublicAccessBlock(
    'public-access',
    { bucket: bucket.id, blockPublicAcls: !open, blockPublicPolicy: !open, ignorePublicAcls: !open, restrictPublicBuckets: !open },
    child,
  );
  if (spec.versioning || spec.objectLock)
    new aws.s3.BucketVersioning('versioning', { bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } }, child);
  const kms = spec.encryption?.algorithm === 'aws:kms';
  new aws.s3.BucketServerSideEncryptionConfiguration(
    'encryption',
    {
      bucket: bucket.id,
      rules: [
        {
          applyServerSideEncryptionByDefault: {
            sseAlgorithm: kms ? 'aws:kms' : 'AES256',
            ...(kms && spec.encryption?.kmsKeyId ? { kmsMasterKeyId: scope.kmsKey(spec.encryption.kmsKeyId)! } : {}),
          },
          bucketKeyEnabled: kms,
        },
      ],
    },
    child,
  );
  new aws.s3.BucketPolicy('policy', { bucket: bucket.id, policy: bucketPolicy(scope, bucket.arn) }, child);
  if (spec.lifecycle?.length)
    new aws.s3.BucketLifecycleConfiguration(
      'lifecycle',
      {
        bucket: bucket.id,
        rules: spec.lifecycle.map((r, i) => ({
          id: r.name ?? `rule-${i}`,
          status: 'Enabled',
          filter: r.prefix ? { prefix: r.prefix } : {},
          ...(r.expirationDays ? { expiration: { days: r.expirationDays } } : {}),
          ...(r.noncurrentExpirationDays ? { noncurrentVersionExpiration: { noncurrentDays: r.noncurrentExpirationDays } } : {}),
          ...(r.abortIncompleteUploadDays ? { abortIncompleteMultipartUpload: { daysAfterInitiation: r.abortIncompleteUploadDays } } : {}),
          ...(r.transitions?.length ? { transitions: r.transitions.map((t) => ({ days: t.days, storageClass: t.storageClass })) } : {}),
        })),
      },
      child,
    );
  if (spec.cors?.length)
    new aws.s3.BucketCorsConfiguration(
      'cors',
      {
        bucket: bucket.id,
        corsRules: spec.cors.map((c) => ({
          allowedOrigins: c.allowedOrigins,
          allowedMethods: c.allowedMethods,
          ...(c.allowedHeaders ? { allowedHeaders: c.allowedHeaders } : {}),
          ...(c.exposeHeaders ? { exposeHeaders: c.exposeHeaders } : {}),
          ...(c.maxAgeSeconds !== undefined ? { maxAgeSeconds: c.maxAgeSeconds } : {}),
        })),
      },
      child,
    );
  if (spec.website)
    new aws.s3.BucketWebsiteConfiguration(
      'website',
      {
        bucket: bucket.id,
        indexDocument: { suffix: spec.website.indexDocument ?? 'index.html' },
        ...(spec.website.errorDocument ? { errorDocument: { key: spec.website.errorDocument } } : {}),
      },
      child,
    );
  if (spec.objectLock)
    new aws.s3.BucketObjectLockConfiguration(
      'object-lock',
      { bucket: bucket.id, rule: { defaultRetention: { mode: spec.objectLock.mode.toUpperCase(), days: spec.objectLock.days } } },
      child,
    );
  return {
    bucketName: bucket.bucket,
    url: bucket.bucketRegionalDomainName.apply((d) => `https://${d}`),
    arn: bucket.arn,
    domainName: bucket.bucketDomainName,
    regionalDomainName: bucket.bucketRegionalDomainName,
  };
}

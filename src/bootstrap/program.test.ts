/** The bootstrap program under Pulumi's runtime mocks (the AWS provider plugin cannot be downloaded here). */
import * as pulumi from '@pulumi/pulumi';
import { describe, expect, it } from 'vitest';

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

const registered: Registered[] = [];
await pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      return { id: `${args.name}-id`, state: { ...args.inputs, arn: `arn:aws:mock:::${args.name}` } };
    },
    call: (args) => args.inputs,
  },
  'deployer',
  'bootstrap',
  false,
);
const { bootstrapProgram } = await import('./program.js');

function resolved<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply(resolve));
}

/** The program registers its bucket settings once the bucket has an id: wait for all five. */
async function allRegistered(): Promise<void> {
  for (let i = 0; i < 200 && registered.length < 5; i++) await new Promise((r) => setTimeout(r, 5));
}

const byType = (type: string): Registered => {
  const r = registered.find((x) => x.type === type);
  if (!r) throw new Error(`no ${type} was registered; got ${registered.map((x) => x.type).join(', ')}`);
  return r;
};

describe('bootstrap program', () => {
  it('makes a versioned, encrypted, private state bucket and an on-demand lock table with TTL', async () => {
    const out = bootstrapProgram({ bucket: 'team-deployer-state', table: 'deployer-state-locks', region: 'eu-west-1' });
    expect(await resolved(out.bucket)).toBe('team-deployer-state');
    expect(await resolved(out.table)).toBe('deployer-state-locks');
    await resolved(out.tableArn);
    await allRegistered();

    expect(byType('aws:s3/bucket:Bucket').inputs).toMatchObject({
      bucket: 'team-deployer-state',
      region: 'eu-west-1',
      forceDestroy: false,
    });
    expect(byType('aws:s3/bucketVersioning:BucketVersioning').inputs).toMatchObject({ versioningConfiguration: { status: 'Enabled' } });
    expect(byType('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration').inputs).toMatchObject({
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
    });
    expect(byType('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock').inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(byType('aws:dynamodb/table:Table').inputs).toMatchObject({
      name: 'deployer-state-locks',
      billingMode: 'PAY_PER_REQUEST',
      hashKey: 'lockKey',
      attributes: [{ name: 'lockKey', type: 'S' }],
      ttl: { attributeName: 'expiresAt', enabled: true },
    });
  });

  it('uses the KMS key for the default encryption when one is given', async () => {
    registered.length = 0;
    const out = bootstrapProgram({ bucket: 'b-kms', table: 't', region: 'us-east-1', kmsKeyId: 'alias/deployer' });
    await resolved(out.bucketArn);
    await allRegistered();
    expect(byType('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration').inputs).toMatchObject({
      rules: [
        { applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: 'alias/deployer' }, bucketKeyEnabled: true },
      ],
    });
  });
});

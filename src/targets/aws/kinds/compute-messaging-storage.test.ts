/**
 * The aws target's storage kinds (test/fixtures/aws-compute-messaging: EBS and EFS, beside the
 * host they attach to) under Pulumi's runtime mocks, with the options the runtime is given
 * recorded: encrypted volumes and file systems, their snapshots and backups, and the stores
 * protected in production. Their golden files (test/fixtures/aws-golden/compute-messaging/) are
 * written by compute-messaging-compute.test.ts; the assertions say what a reviewer must find there.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { one, ofType, statements, translateFixture, type Options } from '../../../../test/helpers/aws-compute-messaging.js';
import type { TranslatedStack } from '../../../../test/helpers/aws-translate.js';
import type { MockedRun } from '../mocks.js';

describe.each(['dev', 'production'])('the aws-compute-messaging stack in %s', (env) => {
  const prod = env === 'production';
  let stack: TranslatedStack;
  const options: Options[] = [];
  const warnings: string[] = [];
  const run = (id: string): MockedRun => stack.runs.get(id) ?? expect.fail(`no run of ${id}`);
  const protectedOf = (type: string, match: (inputs: Record<string, unknown>) => boolean): boolean =>
    options.find((o) => o.type === type && match(o.inputs))?.protect ?? expect.fail(`no ${type}`);
  beforeAll(async () => {
    stack = await translateFixture(env, options, warnings);
  }, 120_000);
  afterAll(() => vi.restoreAllMocks());

  it('attaches an encrypted volume to the host, snapshots it on schedule, and protects the stores in production', () => {
    const r = run('compute/data').resources;
    expect(one(r, 'aws:ebs/volume:Volume', 'volume').inputs).toMatchObject({
      availabilityZone: 'eu-west-1a',
      type: 'gp3',
      size: prod ? 500 : 100,
      iops: 4000,
      throughput: 250,
      encrypted: true,
      kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/kms-data',
      finalSnapshot: prod,
    });
    expect(one(r, 'aws:ec2/volumeAttachment:VolumeAttachment', 'attachment').inputs).toMatchObject({
      instanceId: run('compute/host').outputs['id'],
      deviceName: '/dev/sdf',
    });
    const policy = one(r, 'aws:dlm/lifecyclePolicy:LifecyclePolicy', 'snapshots').inputs['policyDetails'] as Record<string, unknown>;
    expect(policy).toMatchObject({
      targetTags: { 'deployer:snapshots': `cm-${env}-compute-data` },
      schedules: [
        {
          createRule: prod ? { interval: 12, intervalUnit: 'HOURS' } : { cronExpression: 'cron(0 1 * * ? *)' },
          retainRule: { count: prod ? 30 : 7 },
        },
      ],
    });
    expect(one(run('compute/scratch').resources, 'aws:ebs/volume:Volume', 'volume').inputs).toMatchObject({
      type: 'io2',
      iops: 5000,
      snapshotId: 'snap-0123456789abcdef0',
      encrypted: true,
    });
    expect(protectedOf('aws:ebs/volume:Volume', (i) => i['size'] !== undefined)).toBe(prod);
    expect(protectedOf('aws:efs/fileSystem:FileSystem', (i) => i['creationToken'] === `cm-${env}-storage-shared`)).toBe(prod);
    expect(protectedOf('aws:msk/cluster:Cluster', (i) => i['clusterName'] === `cm-${env}-stream-events`)).toBe(prod);
    // deletionProtection: true protects in every environment.
    expect(protectedOf('aws:msk/cluster:Cluster', (i) => i['clusterName'] === `cm-${env}-stream-legacy`)).toBe(true);
  });

  it('makes an encrypted file system mounted in each private subnet, TLS only, with access points and backups', () => {
    const r = run('storage/shared').resources;
    expect(one(r, 'aws:efs/fileSystem:FileSystem', 'file-system').inputs).toMatchObject({
      encrypted: true,
      kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/kms-data',
      performanceMode: 'generalPurpose',
      throughputMode: 'elastic',
      lifecyclePolicies: [{ transitionToIa: 'AFTER_30_DAYS' }, { transitionToPrimaryStorageClass: 'AFTER_1_ACCESS' }],
    });
    expect(ofType(r, 'aws:efs/mountTarget:MountTarget').map((m) => [m.inputs['subnetId'], m.inputs['securityGroups']])).toEqual([
      ['private-0-id', ['sg-nfs-id']],
      ['private-1-id', ['sg-nfs-id']],
    ]);
    expect(ofType(r, 'aws:efs/accessPoint:AccessPoint').map((a) => [a.inputs['posixUser'], a.inputs['rootDirectory']])).toEqual([
      [
        { uid: 1000, gid: 1000 },
        { path: '/app', creationInfo: { ownerUid: 1000, ownerGid: 1000, permissions: '0750' } },
      ],
      [undefined, { path: '/logs' }],
    ]);
    const fsArn = run('storage/shared').outputs['arn'];
    expect(statements(one(r, 'aws:efs/fileSystemPolicy:FileSystemPolicy', 'policy'))).toEqual([
      {
        Sid: 'MountAndWriteThroughMountTargets',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
        Resource: [fsArn],
        Condition: { Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' } },
      },
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: ['*'],
        Resource: [fsArn],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);
    // production's backup says its window and retention: a plan of its own, EFS's automatic backups off.
    expect(one(r, 'aws:efs/backupPolicy:BackupPolicy', 'backup-policy').inputs['backupPolicy']).toEqual({ status: 'DISABLED' });
    expect(ofType(r, 'aws:backup/plan:Plan').map((p) => p.inputs['rules'])).toEqual(
      prod
        ? [
            [
              {
                ruleName: 'daily',
                targetVaultName: `cm-${env}-storage-shared`,
                schedule: 'cron(0 1 * * ? *)',
                startWindow: 120,
                lifecycle: { deleteAfter: 35 },
              },
            ],
          ]
        : [],
    );
    expect(ofType(r, 'aws:backup/selection:Selection').map((s) => s.inputs['resources'])).toEqual(prod ? [[fsArn]] : []);
    // A file system that says nothing of backups: EFS's automatic ones in production.
    const cache = run('storage/cache').resources;
    expect(one(cache, 'aws:efs/backupPolicy:BackupPolicy', 'backup-policy').inputs['backupPolicy']).toEqual({
      status: prod ? 'ENABLED' : 'DISABLED',
    });
    expect(one(cache, 'aws:efs/fileSystem:FileSystem', 'file-system').inputs).toMatchObject({
      performanceMode: 'maxIO',
      throughputMode: 'provisioned',
      provisionedThroughputInMibps: 64,
    });
    expect(ofType(cache, 'aws:efs/mountTarget:MountTarget').map((m) => m.inputs['securityGroups'])).toEqual([undefined, undefined]);
  });
});

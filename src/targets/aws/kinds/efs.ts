/**
 * EFS on AWS: a file system encrypted at rest (the AWS key, or a key of the stack by name) with
 * its performance and throughput modes and lifecycle policies, a mount target in each of the
 * component's subnets (private unless its network says otherwise; one only for One Zone) with
 * its security groups, its access points, and a file system policy that refuses any client not
 * using TLS and lets others mount and write through a mount target, but not as root (root is
 * squashed: an access point's posixUser says who writes). Backups: the spec's `backup` as an
 * AWS Backup plan (its window and retention), else EFS's automatic backups in production (daily,
 * 35 days), none elsewhere. Protected from deletion in production and when the spec asks.
 * Alarms: client connections.
 */
import type * as awsModule from '@pulumi/aws';
import type { Input } from '@pulumi/pulumi';
import { DeployerError } from '../../../errors.js';
import { policyDocument, trustPolicy } from '../iam.js';
import type { AwsScope, Outputs } from '../scope.js';
import { alarmsFor, protectedStore } from './compute-messaging.js';

interface EFSSpec {
  performanceMode?: 'general-purpose' | 'max-io';
  throughputMode?: 'elastic' | 'bursting' | 'provisioned';
  provisionedThroughputMibps?: number;
  oneZone?: boolean;
  lifecycle?: { transitionToIA?: string; transitionToPrimary?: string };
  accessPoints?: Array<{ name: string; path: string; posixUser?: { uid: number; gid: number }; permissions?: string }>;
  encryption?: { enabled: boolean; kmsKeyId?: string };
  deletionProtection?: boolean;
  backup?: { retentionDays: number; window?: string };
}

export function translateEFS(scope: AwsScope): Outputs {
  const { aws } = scope;
  const spec = scope.spec as EFSSpec;
  const throughputMode = spec.throughputMode ?? 'elastic';
  if (spec.performanceMode === 'max-io' && (throughputMode === 'elastic' || spec.oneZone))
    throw new DeployerError(
      'INVALID_INPUT',
      `${scope.id}: EFS has no max-io performance mode with ${spec.oneZone ? 'One Zone storage' : 'elastic throughput'}`,
      {
        details: ['use performanceMode general-purpose, or throughputMode bursting or provisioned on Regional storage'],
      },
    );
  const subnets = scope.subnetIds();
  const oneZone = spec.oneZone
    ? scope.aws.ec2.getSubnetOutput({ id: subnets[0]! }, { provider: scope.provider }).availabilityZone
    : undefined;
  const fs = new aws.efs.FileSystem(
    'file-system',
    {
      creationToken: scope.baseName,
      encrypted: spec.encryption?.enabled ?? true,
      ...(spec.encryption?.enabled !== false && spec.encryption?.kmsKeyId ? { kmsKeyId: scope.kmsKey(spec.encryption.kmsKeyId)! } : {}),
      performanceMode: spec.performanceMode === 'max-io' ? 'maxIO' : 'generalPurpose',
      throughputMode,
      ...(throughputMode === 'provisioned' ? { provisionedThroughputInMibps: spec.provisionedThroughputMibps ?? 1 } : {}),
      ...(oneZone ? { availabilityZoneName: oneZone } : {}),
      lifecyclePolicies: lifecycle(spec),
      tags: { Name: scope.baseName },
    },
    scope.opts(protectedStore(scope, spec.deletionProtection) ? { protect: true } : {}),
  );
  const child = scope.opts({ parent: fs });
  const groups = scope.securityGroupIds();
  (spec.oneZone ? subnets.slice(0, 1) : subnets).forEach(
    (subnetId, i) =>
      // No group named: the VPC's default group, as AWS gives.
      new aws.efs.MountTarget(
        `mount-target-${i}`,
        { fileSystemId: fs.id, subnetId, ...(groups.length ? { securityGroups: groups } : {}) },
        child,
      ),
  );
  (spec.accessPoints ?? []).forEach((ap) => new aws.efs.AccessPoint(`access-point-${ap.name}`, accessPointArgs(fs.id, ap), child));
  new aws.efs.FileSystemPolicy('policy', { fileSystemId: fs.id, policy: fs.arn.apply(fileSystemPolicy) }, child);
  backups(scope, spec, fs);
  alarmsFor(scope, {
    connections: { namespace: 'AWS/EFS', metricName: 'ClientConnections', dimensions: { FileSystemId: fs.id }, statistic: 'Sum' },
  });
  return { id: fs.id, arn: fs.arn, dnsName: fs.dnsName };
}

/** `after-30-days` -> AFTER_30_DAYS, as EFS writes it. */
const upper = (s: string): string => s.toUpperCase().replaceAll('-', '_');

function lifecycle(spec: EFSSpec): awsModule.types.input.efs.FileSystemLifecyclePolicy[] {
  const l = spec.lifecycle ?? {};
  return [
    ...(l.transitionToIA ? [{ transitionToIa: upper(l.transitionToIA) }] : []),
    ...(l.transitionToPrimary ? [{ transitionToPrimaryStorageClass: upper(l.transitionToPrimary) }] : []),
  ];
}

/**
 * An access point: requests through it are made as its posixUser, in its directory, which EFS
 * creates when missing (owned by that user, with the permissions given; 0755 when not said).
 */
function accessPointArgs(fileSystemId: Input<string>, ap: NonNullable<EFSSpec['accessPoints']>[number]): awsModule.efs.AccessPointArgs {
  const owner = ap.posixUser ?? { uid: 0, gid: 0 };
  const create = ap.posixUser !== undefined || ap.permissions !== undefined;
  return {
    fileSystemId,
    ...(ap.posixUser ? { posixUser: { uid: ap.posixUser.uid, gid: ap.posixUser.gid } } : {}),
    rootDirectory: {
      path: ap.path,
      ...(create ? { creationInfo: { ownerUid: owner.uid, ownerGid: owner.gid, permissions: ap.permissions ?? '0755' } } : {}),
    },
    tags: { Name: ap.name },
  };
}

function fileSystemPolicy(arn: string): string {
  return policyDocument([
    {
      Sid: 'MountAndWriteThroughMountTargets',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
      Resource: [arn],
      Condition: { Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' } },
    },
    {
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: ['*'],
      Resource: [arn],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
  ]);
}

/** The minutes of a daily window hh:mm-hh:mm, and its start as a cron expression. */
function windowOf(window: string): { schedule: string; minutes: number } {
  const [start, end] = window.split('-').map((t) => t.split(':').map(Number)) as [[number, number], [number, number]];
  const minutes = (end[0] * 60 + end[1] - (start[0] * 60 + start[1]) + 1440) % 1440;
  return { schedule: `cron(${start[1]} ${start[0]} * * ? *)`, minutes };
}

function backups(scope: AwsScope, spec: EFSSpec, fs: awsModule.efs.FileSystem): void {
  const { aws } = scope;
  const plan = spec.backup && spec.backup.retentionDays > 0;
  // EFS's automatic backups (AWS Backup's default plan) when nothing else says; off when a plan of ours takes them.
  const automatic = !plan && (spec.backup ? false : scope.isProduction);
  new aws.efs.BackupPolicy(
    'backup-policy',
    { fileSystemId: fs.id, backupPolicy: { status: automatic ? 'ENABLED' : 'DISABLED' } },
    scope.opts({ parent: fs }),
  );
  if (!plan) return;
  const key = scope.kmsKey(spec.encryption?.kmsKeyId);
  const vault = new aws.backup.Vault(
    'backup-vault',
    { name: scope.physicalName({ max: 50 }), ...(key?.startsWith('arn:') ? { kmsKeyArn: key } : {}) },
    scope.opts(),
  );
  // No window said: AWS Backup's own default start, 05:00 UTC.
  const window = windowOf(spec.backup!.window ?? '05:00-06:00');
  const backupPlan = new aws.backup.Plan(
    'backup-plan',
    {
      name: scope.physicalName({ max: 50 }),
      rules: [
        {
          ruleName: 'daily',
          targetVaultName: vault.name,
          schedule: window.schedule,
          startWindow: Math.max(60, window.minutes),
          lifecycle: { deleteAfter: spec.backup!.retentionDays },
        },
      ],
    },
    scope.opts(),
  );
  const role = new aws.iam.Role(
    'backup-role',
    { name: scope.physicalName({ max: 64, suffix: '-backup' }), assumeRolePolicy: trustPolicy(['backup.amazonaws.com']) },
    scope.opts(),
  );
  new aws.iam.RolePolicyAttachment(
    'backup-role',
    { role: role.name, policyArn: 'arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup' },
    scope.opts({ parent: role }),
  );
  new aws.backup.Selection(
    'backup-selection',
    { name: scope.physicalName({ max: 50 }), planId: backupPlan.id, iamRoleArn: role.arn, resources: [fs.arn] },
    scope.opts({ parent: backupPlan }),
  );
}

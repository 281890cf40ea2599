/**
 * EBS on AWS: a volume (its type, size, IOPS and throughput where the type takes them, from a
 * snapshot if one is named) encrypted at rest (the account's EBS key, or a key of the stack by
 * name), in the zone given or that of the instance it is attached to; its attachment to that
 * instance (stopping the instance before detaching, so that its file systems are not torn);
 * and, when `snapshots` is set, a Data Lifecycle Manager policy snapshotting it on that
 * schedule and keeping the last `retain`, with the role DLM runs as. A final snapshot is taken
 * when the volume is deleted in production; it is protected from deletion in production and
 * when the spec asks. CloudWatch has none of Observability's alert metrics for a volume.
 */
import type * as awsModule from '@pulumi/aws';
import type { Input } from '@pulumi/pulumi';
import { DeployerError } from '../../../errors.js';
import { trustPolicy } from '../iam.js';
import type { AwsScope, Outputs } from '../scope.js';
import { alarmsFor, awsSchedule, protectedStore } from './compute-messaging.js';

interface EBSSpec {
  sizeGb?: number;
  type?: string;
  iops?: number;
  throughputMbps?: number;
  availabilityZone?: string;
  snapshotId?: string;
  attachTo?: { instance: string; device: string };
  snapshots?: { schedule: string; retain: number };
  encryption?: { enabled: boolean; kmsKeyId?: string };
  deletionProtection?: boolean;
}

/** The tag Data Lifecycle Manager finds the volume by (the component's own: no other volume has it). */
const SNAPSHOT_TAG = 'deployer:snapshots';
/** The intervals, in hours, DLM creates snapshots at. */
const DLM_HOURS = [1, 2, 3, 4, 6, 8, 12, 24];

export function translateEBS(scope: AwsScope): Outputs {
  const { aws } = scope;
  const spec = scope.spec as EBSSpec;
  const type = spec.type ?? 'gp3';
  checkPerformance(scope, type, spec.iops, spec.throughputMbps, '');
  const availabilityZone = zoneOf(scope, spec);
  const encrypted = spec.encryption?.enabled ?? true;
  const volume = new aws.ebs.Volume(
    'volume',
    {
      availabilityZone,
      type,
      ...(spec.sizeGb !== undefined ? { size: spec.sizeGb } : {}),
      ...(spec.snapshotId ? { snapshotId: spec.snapshotId } : {}),
      ...(spec.iops !== undefined ? { iops: spec.iops } : {}),
      ...(spec.throughputMbps !== undefined ? { throughput: spec.throughputMbps } : {}),
      encrypted,
      ...(encrypted && spec.encryption?.kmsKeyId ? { kmsKeyId: scope.kmsKey(spec.encryption.kmsKeyId)! } : {}),
      finalSnapshot: scope.isProduction,
      tags: { Name: scope.baseName, ...(spec.snapshots ? { [SNAPSHOT_TAG]: scope.baseName } : {}) },
    },
    scope.opts(protectedStore(scope, spec.deletionProtection) ? { protect: true } : {}),
  );
  if (spec.attachTo)
    new aws.ec2.VolumeAttachment(
      'attachment',
      { volumeId: volume.id, instanceId: spec.attachTo.instance, deviceName: spec.attachTo.device, stopInstanceBeforeDetaching: true },
      scope.opts({ parent: volume }),
    );
  if (spec.snapshots) snapshotPolicy(scope, spec.snapshots);
  alarmsFor(scope, {});
  return { id: volume.id, arn: volume.arn, availabilityZone: volume.availabilityZone };
}

/** IOPS are provisioned on gp3, io1 and io2 volumes, throughput on gp3 alone: AWS refuses them elsewhere. */
export function checkPerformance(
  scope: AwsScope,
  type: string,
  iops: number | undefined,
  throughput: number | undefined,
  at: string,
): void {
  if (iops !== undefined && !['gp3', 'io1', 'io2'].includes(type))
    throw new DeployerError('INVALID_INPUT', `${scope.id}: ${at}iops: a ${type} volume has no provisioned IOPS (gp3, io1 and io2 have)`);
  if (throughput !== undefined && type !== 'gp3')
    throw new DeployerError('INVALID_INPUT', `${scope.id}: ${at}throughputMbps: a ${type} volume has no provisioned throughput (gp3 has)`);
}

/** The zone given, else that of the instance the volume is attached to (looked up when deploying). */
function zoneOf(scope: AwsScope, spec: EBSSpec): Input<string> {
  if (spec.availabilityZone) return spec.availabilityZone;
  if (spec.attachTo)
    return scope.aws.ec2.getInstanceOutput({ instanceId: spec.attachTo.instance }, { provider: scope.provider }).availabilityZone;
  throw new DeployerError('INVALID_INPUT', `${scope.id}: a volume is made in one availability zone, and the spec names none`, {
    details: ['set availabilityZone, or attachTo an instance (the volume is then made in its zone)'],
  });
}

/** The schedule as DLM takes it: a cron expression, or every N hours (N one of DLM_HOURS). */
function createRule(scope: AwsScope, schedule: string): awsModule.types.input.dlm.LifecyclePolicyPolicyDetailsScheduleCreateRule {
  const expression = awsSchedule(schedule, `${scope.id}: snapshots.schedule`);
  const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  if (!rate) return { cronExpression: expression };
  const hours = rate[2] === 'hour' ? Number(rate[1]) : rate[2] === 'day' ? Number(rate[1]) * 24 : 0;
  if (!DLM_HOURS.includes(hours))
    throw new DeployerError(
      'INVALID_INPUT',
      `${scope.id}: snapshots.schedule "${schedule}": DLM snapshots every ${DLM_HOURS.join(', ')} hours`,
      {
        details: ['or on a cron expression, such as "0 3 * * *"'],
      },
    );
  return { interval: hours, intervalUnit: 'HOURS' };
}

function snapshotPolicy(scope: AwsScope, snapshots: NonNullable<EBSSpec['snapshots']>): void {
  const { aws } = scope;
  const role = new aws.iam.Role(
    'snapshots-role',
    { name: scope.physicalName({ max: 64, suffix: '-snapshots' }), assumeRolePolicy: trustPolicy(['dlm.amazonaws.com']) },
    scope.opts(),
  );
  new aws.iam.RolePolicyAttachment(
    'snapshots-role',
    { role: role.name, policyArn: 'arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole' },
    scope.opts({ parent: role }),
  );
  new aws.dlm.LifecyclePolicy(
    'snapshots',
    {
      description: `Snapshots of ${scope.id} at ${snapshots.schedule}, the last ${snapshots.retain} kept (deployer)`,
      executionRoleArn: role.arn,
      state: 'ENABLED',
      policyDetails: {
        policyType: 'EBS_SNAPSHOT_MANAGEMENT',
        resourceTypes: ['VOLUME'],
        targetTags: { [SNAPSHOT_TAG]: scope.baseName },
        schedules: [
          {
            name: 'scheduled',
            createRule: createRule(scope, snapshots.schedule),
            retainRule: { count: snapshots.retain },
            copyTags: true,
          },
        ],
      },
    },
    scope.opts(),
  );
}

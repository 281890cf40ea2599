/**
 * EC2Instance on AWS: `count` identical instances spread over the component's subnets (private
 * unless its network says otherwise), each with its security groups (or one of its own, letting
 * nothing in), IMDSv2 required, an encrypted root volume, the user data, the key pair if one is
 * named, detailed monitoring when the spec or Observability asks, and termination protection in
 * production. They run with an instance profile: the component's role (the stack's grants and
 * Security's roles attached to it) with Session Manager's managed policy, so that operators get
 * a shell without SSH or an open port (`ssm: false` leaves it out) — or the existing role
 * `iamRole` names. The AMI is the one given (an id, or an SSM parameter read at deploy time),
 * else the latest Amazon Linux 2023 for the instance type's architecture. Alarms: CPU.
 */
import type * as awsModule from '@pulumi/aws';
import type { Input } from '@pulumi/pulumi';
import { componentRole } from '../iam.js';
import type { AwsScope, Outputs } from '../scope.js';
import { alarmsFor, securityGroupsOrOwn } from './compute-messaging.js';
import { checkPerformance } from './ebs.js';

interface EC2Spec {
  instanceType: string;
  ami?: string;
  count?: number;
  keyName?: string;
  userData?: string;
  rootVolume?: { sizeGb?: number; type?: string; iops?: number; encrypted?: boolean };
  iamRole?: string;
  ssm?: boolean;
  imdsV2Only?: boolean;
  detailedMonitoring?: boolean;
  network?: { assignPublicIp?: boolean };
}

const SSM_CORE = 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore';

export function translateEC2Instance(scope: AwsScope): Outputs {
  const { aws } = scope;
  const spec = scope.spec as unknown as EC2Spec;
  const count = spec.count ?? 1;
  checkPerformance(scope, spec.rootVolume?.type ?? 'gp3', spec.rootVolume?.iops, undefined, 'rootVolume.');
  const subnets = scope.subnetIds();
  const groups = securityGroupsOrOwn(scope, 'the instances of');
  const profile = instanceProfile(scope, spec);
  const ami = amiOf(scope, spec);
  const instances = Array.from({ length: count }, (_, i) => {
    const label = count > 1 ? `${scope.baseName}-${i}` : scope.baseName;
    return new aws.ec2.Instance(
      count > 1 ? `instance-${i}` : 'instance',
      {
        ami: ami.id,
        instanceType: spec.instanceType,
        subnetId: subnets[i % subnets.length]!,
        vpcSecurityGroupIds: groups,
        iamInstanceProfile: profile.name,
        associatePublicIpAddress: spec.network?.assignPublicIp ?? false,
        ...(spec.keyName ? { keyName: spec.keyName } : {}),
        ...(spec.userData !== undefined ? { userData: spec.userData } : {}),
        metadataOptions: { httpEndpoint: 'enabled', httpTokens: (spec.imdsV2Only ?? true) ? 'required' : 'optional' },
        rootBlockDevice: rootVolume(spec, label),
        monitoring: spec.detailedMonitoring ?? scope.infra.observability.detailedMonitoring ?? false,
        disableApiTermination: scope.isProduction,
        // Not volumeTags: they would fight the tags of an EBS component's volume attached to the instance.
        tags: { Name: label },
      },
      // A looked-up AMI is the latest when the instance is made: a newer one replaces no running instance.
      scope.opts(ami.lookedUp ? { ignoreChanges: ['ami'] } : {}),
    );
  });
  instances.forEach((instance, i) =>
    alarmsFor(
      scope,
      { cpu: { namespace: 'AWS/EC2', metricName: 'CPUUtilization', dimensions: { InstanceId: instance.id }, statistic: 'Average' } },
      count > 1 ? String(i) : undefined,
    ),
  );
  const first = instances[0]!;
  return {
    id: first.id,
    arn: first.arn,
    privateIp: first.privateIp,
    publicIp: first.publicIp,
    privateDns: first.privateDns,
    publicDns: first.publicDns,
  };
}

/** The root volume: encrypted unless the spec says not (with the account's EBS key: the kind names none). */
function rootVolume(spec: EC2Spec, label: string): awsModule.types.input.ec2.InstanceRootBlockDevice {
  const v = spec.rootVolume ?? {};
  const type = v.type ?? 'gp3';
  return {
    volumeType: type,
    encrypted: v.encrypted ?? true,
    deleteOnTermination: true,
    tags: { Name: label },
    ...(v.sizeGb !== undefined ? { volumeSize: v.sizeGb } : {}),
    ...(v.iops !== undefined ? { iops: v.iops } : {}),
  };
}

/** Graviton instance types (m7g, t4g, c6gn, x2gd ...) run arm64 images. */
export function architectureOf(instanceType: string): 'arm64' | 'x86_64' {
  return /^[a-z]+\d+[a-z]*g[a-z]*\./.test(instanceType) ? 'arm64' : 'x86_64';
}

function amiOf(scope: AwsScope, spec: EC2Spec): { id: Input<string>; lookedUp: boolean } {
  const invoke = { provider: scope.provider };
  if (spec.ami?.startsWith('ami-')) return { id: spec.ami, lookedUp: false };
  if (spec.ami) {
    // resolve:ssm:<parameter>: read when deploying, so that the instance shows (and keeps) the AMI it runs.
    const name = spec.ami.slice('resolve:ssm:'.length);
    return { id: scope.aws.ssm.getParameterOutput({ name }, invoke).value, lookedUp: false };
  }
  const arch = architectureOf(spec.instanceType);
  const ami = scope.aws.ec2.getAmiOutput(
    {
      owners: ['amazon'],
      mostRecent: true,
      filters: [
        { name: 'name', values: [`al2023-ami-2023.*-kernel-*-${arch}`] },
        { name: 'architecture', values: [arch] },
        { name: 'state', values: ['available'] },
      ],
    },
    invoke,
  );
  return { id: ami.id, lookedUp: true };
}

/**
 * The instance profile. `iamRole` naming a role of Security attached to this component is the
 * component's role (its policies are in it); naming another role (or an ARN), that role as it
 * is: deployer changes nothing in a role it does not manage, so the grants go nowhere (said).
 */
function instanceProfile(scope: AwsScope, spec: EC2Spec): awsModule.iam.InstanceProfile {
  const { aws } = scope;
  const attached = scope.infra.iam.roles.some((r) => r.name === spec.iamRole);
  const name = scope.physicalName({ max: 128 });
  if (spec.iamRole && !attached) {
    if (scope.infra.grants.length > 0)
      scope.pulumi.log.warn(
        `${scope.id}: runs as ${spec.iamRole}, which deployer does not manage: the access its references call for (${scope.infra.grants.map((g) => g.component).join(', ')}) is to be given there`,
      );
    const roleName = spec.iamRole.startsWith('arn:') ? spec.iamRole.split('/').pop()! : spec.iamRole;
    return new aws.iam.InstanceProfile('instance-profile', { name, role: roleName }, scope.opts());
  }
  const { role } = componentRole(scope, 'ec2.amazonaws.com', [], 'instance-role', '-instance');
  if (spec.ssm ?? true)
    new aws.iam.RolePolicyAttachment('instance-role-ssm', { role: role.name, policyArn: SSM_CORE }, scope.opts({ parent: role }));
  return new aws.iam.InstanceProfile('instance-profile', { name, role: role.name }, scope.opts());
}

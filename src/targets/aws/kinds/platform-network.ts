/**
 * The stack's network on AWS, from its Networking document: a VPC (or an existing one), its
 * subnets by tier (public: an internet gateway route; private: a route to NAT, one shared or one
 * per zone; isolated: no route out), VPC endpoints (gateway endpoints for s3 and dynamodb,
 * interface endpoints for the others), flow logs and a private DNS zone. Part of stack/platform.
 */
import type * as awsModule from '@pulumi/aws';
import type { Input, Output } from '@pulumi/pulumi';
import { DeployerError } from '../../../errors.js';
import type { SubnetTier } from '../../../model/stack-infra.js';
import { policyDocument, trustPolicy } from '../iam.js';
import type { AwsScope } from '../scope.js';

interface SubnetSpec {
  name?: string;
  cidr?: string;
  id?: string;
  availabilityZone?: string;
  tags?: Record<string, string>;
}

export interface NetworkingSpec {
  vpc?: { id?: string; cidr?: string; enableDnsHostnames?: boolean; enableDnsSupport?: boolean; ipv6?: boolean };
  availabilityZones?: string[];
  subnets?: Partial<Record<SubnetTier, SubnetSpec[]>>;
  natGateways?: 'none' | 'single' | 'one-per-az';
  vpcEndpoints?: string[];
  flowLogs?: { enabled: boolean; trafficType?: string; destination?: string; retentionDays?: number };
  dns?: { privateZone?: string; publicZone?: string };
}

export interface Network {
  vpcId: Input<string>;
  /** The VPC's IPv4 block (for rules that allow the VPC itself), when deployer made the VPC. */
  cidr?: Input<string>;
  subnetIds: Record<SubnetTier, Array<Input<string>>>;
  privateZoneId?: Output<string>;
}

const TIERS: SubnetTier[] = ['public', 'private', 'isolated'];
const GATEWAY_ENDPOINTS = new Set(['s3', 'dynamodb']);

/** The subnets of a tier, made (or taken as they are, with an id), each in its zone. */
function subnetsOf(
  scope: AwsScope,
  spec: NetworkingSpec,
  vpcId: Input<string>,
  tier: SubnetTier,
): Array<{ id: Input<string>; zone: string }> {
  const zones = spec.availabilityZones ?? [`${scope.infra.region}a`, `${scope.infra.region}b`, `${scope.infra.region}c`];
  return (spec.subnets?.[tier] ?? []).map((s, i) => {
    const zone = s.availabilityZone ?? zones[i % zones.length]!;
    if (s.id) return { id: s.id, zone };
    if (!s.cidr) throw new DeployerError('APPLY_FAILED', `${scope.id}: subnets.${tier}[${i}] has neither cidr nor id`);
    const subnet = new scope.aws.ec2.Subnet(
      `${tier}-${i}`,
      {
        vpcId,
        cidrBlock: s.cidr,
        availabilityZone: zone,
        tags: { Name: s.name ?? `${scope.infra.stack}-${scope.infra.environment}-${tier}-${zone}`, tier, ...s.tags },
      },
      scope.opts(),
    );
    return { id: subnet.id, zone };
  });
}

/** A route table for `subnets`, with a default route when `route` gives one. */
function routeTable(
  scope: AwsScope,
  name: string,
  vpcId: Input<string>,
  subnets: Array<{ id: Input<string> }>,
  route?: { gatewayId?: Input<string>; natGatewayId?: Input<string> },
): awsModule.ec2.RouteTable {
  const table = new scope.aws.ec2.RouteTable(
    `${name}-routes`,
    { vpcId, tags: { Name: `${scope.infra.stack}-${scope.infra.environment}-${name}` } },
    scope.opts(),
  );
  if (route)
    new scope.aws.ec2.Route(
      `${name}-default`,
      { routeTableId: table.id, destinationCidrBlock: '0.0.0.0/0', ...route },
      scope.opts({ parent: table }),
    );
  subnets.forEach(
    (s, i) =>
      new scope.aws.ec2.RouteTableAssociation(`${name}-${i}`, { routeTableId: table.id, subnetId: s.id }, scope.opts({ parent: table })),
  );
  return table;
}

/** The network of the stack: made from `spec`, or the VPC and subnets it names. */
export function makeNetwork(scope: AwsScope, spec: NetworkingSpec): Network {
  const { aws } = scope;
  const label = `${scope.infra.stack}-${scope.infra.environment}`;
  const existing = spec.vpc?.id;
  const vpc = existing
    ? undefined
    : new aws.ec2.Vpc(
        'vpc',
        {
          cidrBlock: spec.vpc?.cidr ?? '10.0.0.0/16',
          enableDnsHostnames: spec.vpc?.enableDnsHostnames ?? true,
          enableDnsSupport: spec.vpc?.enableDnsSupport ?? true,
          assignGeneratedIpv6CidrBlock: spec.vpc?.ipv6 ?? false,
          tags: { Name: label },
        },
        scope.opts(),
      );
  const vpcId = existing ?? vpc!.id;
  const subnets = Object.fromEntries(TIERS.map((t) => [t, subnetsOf(scope, spec, vpcId, t)])) as Record<
    SubnetTier,
    Array<{ id: Input<string>; zone: string }>
  >;
  const tables: Array<Input<string>> = [];
  if (!existing) {
    if (subnets.public.length > 0) {
      const igw = new aws.ec2.InternetGateway('igw', { vpcId, tags: { Name: label } }, scope.opts());
      routeTable(scope, 'public', vpcId, subnets.public, { gatewayId: igw.id });
    }
    tables.push(...privateRoutes(scope, spec, vpcId, subnets));
    if (subnets.isolated.length > 0) tables.push(routeTable(scope, 'isolated', vpcId, subnets.isolated).id);
    endpoints(scope, spec, vpcId, vpc!.cidrBlock, subnets.private, tables);
  }
  if (spec.flowLogs?.enabled) flowLogs(scope, spec.flowLogs, vpcId);
  const zone = spec.dns?.privateZone
    ? new aws.route53.Zone('private-zone', { name: spec.dns.privateZone, vpcs: [{ vpcId }], comment: `${label} (deployer)` }, scope.opts())
    : undefined;
  return {
    vpcId,
    ...(vpc ? { cidr: vpc.cidrBlock } : {}),
    subnetIds: Object.fromEntries(TIERS.map((t) => [t, subnets[t].map((s) => s.id)])) as Network['subnetIds'],
    ...(zone ? { privateZoneId: zone.zoneId } : {}),
  };
}

/** Private subnets reach out through NAT: none, one shared gateway, or one per zone. Returns their route tables. */
function privateRoutes(
  scope: AwsScope,
  spec: NetworkingSpec,
  vpcId: Input<string>,
  subnets: Record<SubnetTier, Array<{ id: Input<string>; zone: string }>>,
): Array<Input<string>> {
  const mode = spec.natGateways ?? 'single';
  if (subnets.private.length === 0) return [];
  if (mode === 'none' || subnets.public.length === 0) return [routeTable(scope, 'private', vpcId, subnets.private).id];
  const nat = (zone: string, i: number): awsModule.ec2.NatGateway => {
    const publicSubnet = subnets.public.find((s) => s.zone === zone) ?? subnets.public[i % subnets.public.length]!;
    const ip = new scope.aws.ec2.Eip(
      `nat-${zone}`,
      { domain: 'vpc', tags: { Name: `${scope.infra.stack}-${scope.infra.environment}-nat-${zone}` } },
      scope.opts(),
    );
    return new scope.aws.ec2.NatGateway(
      `nat-${zone}`,
      { allocationId: ip.id, subnetId: publicSubnet.id, tags: { Name: `${scope.infra.stack}-${scope.infra.environment}-${zone}` } },
      scope.opts(),
    );
  };
  if (mode === 'single') {
    const gateway = nat(subnets.public[0]!.zone, 0);
    return [routeTable(scope, 'private', vpcId, subnets.private, { natGatewayId: gateway.id }).id];
  }
  const zones = [...new Set(subnets.private.map((s) => s.zone))];
  return zones.map((zone, i) => {
    const gateway = nat(zone, i);
    return routeTable(
      scope,
      `private-${zone}`,
      vpcId,
      subnets.private.filter((s) => s.zone === zone),
      { natGatewayId: gateway.id },
    ).id;
  });
}

/** Gateway endpoints on the private and isolated route tables; interface endpoints in the private subnets, open to the VPC on 443. */
function endpoints(
  scope: AwsScope,
  spec: NetworkingSpec,
  vpcId: Input<string>,
  cidr: Input<string>,
  privateSubnets: Array<{ id: Input<string> }>,
  tables: Array<Input<string>>,
): void {
  const wanted = spec.vpcEndpoints ?? [];
  const interfaces = wanted.filter((e) => !GATEWAY_ENDPOINTS.has(e));
  const group =
    interfaces.length > 0
      ? new scope.aws.ec2.SecurityGroup(
          'endpoints',
          { vpcId, description: 'VPC interface endpoints: HTTPS from the VPC (deployer)' },
          scope.opts(),
        )
      : undefined;
  if (group)
    new scope.aws.vpc.SecurityGroupIngressRule(
      'endpoints-https',
      { securityGroupId: group.id, ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: cidr, description: 'HTTPS from the VPC' },
      scope.opts({ parent: group }),
    );
  for (const service of wanted) {
    const serviceName = `com.amazonaws.${scope.infra.region}.${service}`;
    const args: awsModule.ec2.VpcEndpointArgs = GATEWAY_ENDPOINTS.has(service)
      ? { vpcId, serviceName, vpcEndpointType: 'Gateway', routeTableIds: tables }
      : {
          vpcId,
          serviceName,
          vpcEndpointType: 'Interface',
          subnetIds: privateSubnets.map((s) => s.id),
          securityGroupIds: [group!.id],
          privateDnsEnabled: true,
        };
    new scope.aws.ec2.VpcEndpoint(`endpoint-${service}`, args, scope.opts());
  }
}

/** Flow logs of the VPC, to CloudWatch (a log group with the retention asked, and the role that writes it) or to S3. */
function flowLogs(scope: AwsScope, f: NonNullable<NetworkingSpec['flowLogs']>, vpcId: Input<string>): void {
  const { aws } = scope;
  const trafficType = (f.trafficType ?? 'reject').toUpperCase();
  if (f.destination === 's3') {
    const bucket = new aws.s3.Bucket(
      'flow-logs',
      { bucket: scope.physicalName({ max: 63, lowercase: true, suffix: '-flow-logs' }), forceDestroy: false },
      scope.opts(),
    );
    new aws.s3.BucketPublicAccessBlock(
      'flow-logs',
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      scope.opts({ parent: bucket }),
    );
    if (f.retentionDays)
      new aws.s3.BucketLifecycleConfiguration(
        'flow-logs',
        { bucket: bucket.id, rules: [{ id: 'retention', status: 'Enabled', filter: {}, expiration: { days: f.retentionDays } }] },
        scope.opts({ parent: bucket }),
      );
    new aws.ec2.FlowLog('flow-logs', { vpcId, trafficType, logDestinationType: 's3', logDestination: bucket.arn }, scope.opts());
    return;
  }
  const group = new aws.cloudwatch.LogGroup(
    'flow-logs',
    {
      name: `/deployer/${scope.infra.stack}/${scope.infra.environment}/vpc-flow-logs`,
      retentionInDays: f.retentionDays ?? scope.logRetentionDays,
    },
    scope.opts(),
  );
  const role = new aws.iam.Role(
    'flow-logs',
    { name: scope.physicalName({ max: 64, suffix: '-flow-logs' }), assumeRolePolicy: trustPolicy(['vpc-flow-logs.amazonaws.com']) },
    scope.opts(),
  );
  new aws.iam.RolePolicy(
    'flow-logs',
    {
      role: role.name,
      policy: group.arn.apply((arn) =>
        policyDocument([
          { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'], Resource: [`${arn}:*`] },
        ]),
      ),
    },
    scope.opts({ parent: role }),
  );
  new aws.ec2.FlowLog(
    'flow-logs',
    { vpcId, trafficType, logDestinationType: 'cloud-watch-logs', logDestination: group.arn, iamRoleArn: role.arn },
    scope.opts(),
  );
}

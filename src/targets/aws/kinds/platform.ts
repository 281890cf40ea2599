/**
 * stack/platform on AWS: the stack's shared resources, one Pulumi stack of their own. The
 * network (platform-network.ts), Security's security groups (each rule its own resource, so a
 * rule changes without the group) and KMS keys (with their alias alias/<stack>-<env>-<name>),
 * the ECS cluster the stack's containers run on (Fargate and Fargate Spot), and the alert topic
 * Observability's notifications go through: e-mail subscriptions, and a small function that
 * POSTs each alert to the webhook, reading its URL and signing key from Secrets Manager when it
 * runs (so neither is ever a resource input), signed as `deployer reconcile` signs its alerts.
 */
import type * as awsModule from '@pulumi/aws';
import type { Input, Output } from '@pulumi/pulumi';
import { policyDocument, trustPolicy } from '../iam.js';
import type { AwsScope, Outputs } from '../scope.js';
import { isSecretRef, secretArn, type SecretRef } from '../secrets.js';
import { makeNetwork, type Network, type NetworkingSpec } from './platform-network.js';

interface RuleSpec {
  description?: string;
  protocol?: 'tcp' | 'udp' | 'icmp' | 'all';
  port?: number;
  fromPort?: number;
  toPort?: number;
  cidrs?: string[];
  ipv6Cidrs?: string[];
  securityGroups?: string[];
  prefixLists?: string[];
  self?: boolean;
}
interface GroupSpec {
  name: string;
  description?: string;
  ingress?: RuleSpec[];
  egress?: RuleSpec[];
}
interface KeySpec {
  name: string;
  description?: string;
  rotation?: boolean;
  deletionWindowDays?: number;
  multiRegion?: boolean;
}
interface AlertsSpec {
  emails?: string[];
  webhook?: { url: string | SecretRef; signingSecret?: SecretRef };
  snsTopic?: string;
}

export function translatePlatform(scope: AwsScope): Outputs {
  const spec = scope.spec as {
    networking?: NetworkingSpec;
    securityGroups?: GroupSpec[];
    kmsKeys?: KeySpec[];
    cluster?: { containerInsights?: boolean };
    alerts?: AlertsSpec;
  };
  const out: Outputs = {};
  const network = spec.networking ? makeNetwork(scope, spec.networking) : undefined;
  if (network) {
    out['vpcId'] = network.vpcId;
    out['subnetIds'] = network.subnetIds;
    if (network.privateZoneId) out['privateZoneId'] = network.privateZoneId;
  }
  if (network || spec.securityGroups) out['securityGroupIds'] = securityGroups(scope, spec.securityGroups ?? [], network);
  if (spec.kmsKeys) out['kmsKeyArns'] = kmsKeys(scope, spec.kmsKeys);
  if (spec.cluster) {
    const cluster = ecsCluster(scope, spec.cluster.containerInsights ?? false);
    out['clusterArn'] = cluster.arn;
    out['clusterName'] = cluster.name;
  }
  if (spec.alerts) out['alertTopicArn'] = alertTopic(scope, spec.alerts);
  return out;
}

/** The groups, then their rules (a rule may name any group of the stack, itself included). */
function securityGroups(scope: AwsScope, groups: GroupSpec[], network: Network | undefined): Record<string, Input<string>> {
  const { aws } = scope;
  const vpcId = network?.vpcId ?? scope.vpcId();
  const made = new Map(
    groups.map((g) => [
      g.name,
      new aws.ec2.SecurityGroup(
        `sg-${g.name}`,
        {
          name: `${scope.infra.stack}-${scope.infra.environment}-${g.name}`,
          description: g.description ?? `${g.name} (deployer)`,
          vpcId,
          tags: { Name: g.name },
        },
        scope.opts(),
      ),
    ]),
  );
  for (const g of groups) {
    const group = made.get(g.name)!;
    const groupId = (name: string): Input<string> => (name.startsWith('sg-') ? name : (made.get(name)?.id ?? name));
    const rules = (direction: 'ingress' | 'egress', list: RuleSpec[]): void =>
      list.forEach((r, i) =>
        sources(r, groupId, group.id).forEach((source, j) => {
          const args = { securityGroupId: group.id, ...ports(r), ...source, ...(r.description ? { description: r.description } : {}) };
          const name = `sg-${g.name}-${direction}-${i}-${j}`;
          if (direction === 'ingress') new aws.vpc.SecurityGroupIngressRule(name, args, scope.opts({ parent: group }));
          else new aws.vpc.SecurityGroupEgressRule(name, args, scope.opts({ parent: group }));
        }),
      );
    rules('ingress', g.ingress ?? []);
    // A group says nothing of egress: everything out, as a new AWS group has (its own rule, so that it can be changed).
    rules('egress', g.egress ?? [{ protocol: 'all', cidrs: ['0.0.0.0/0'], description: 'everything out' }]);
  }
  return Object.fromEntries([...made].map(([name, g]) => [name, g.id]));
}

function ports(r: RuleSpec): { ipProtocol: string; fromPort?: number; toPort?: number } {
  const protocol = r.protocol ?? 'tcp';
  if (protocol === 'all') return { ipProtocol: '-1' };
  const from = r.port ?? r.fromPort;
  const to = r.port ?? r.toPort;
  return {
    ipProtocol: protocol,
    ...(from !== undefined
      ? { fromPort: from, toPort: to ?? from }
      : protocol === 'icmp'
        ? { fromPort: -1, toPort: -1 }
        : { fromPort: 0, toPort: 65535 }),
  };
}

/** One rule per source (AWS's rule resources take one each). */
function sources(r: RuleSpec, groupId: (name: string) => Input<string>, self: Input<string>): Array<Record<string, Input<string>>> {
  return [
    ...(r.cidrs ?? []).map((c) => ({ cidrIpv4: c })),
    ...(r.ipv6Cidrs ?? []).map((c) => ({ cidrIpv6: c })),
    ...(r.securityGroups ?? []).map((g) => ({ referencedSecurityGroupId: groupId(g) })),
    ...(r.prefixLists ?? []).map((p) => ({ prefixListId: p })),
    ...(r.self ? [{ referencedSecurityGroupId: self }] : []),
  ];
}

/**
 * The policy of a key of the stack: the account's IAM decides who of it may use the key (as with
 * a key's default policy), and the AWS services that deliver to what it encrypts on the stack's
 * behalf may too — SNS to an encrypted queue, EventBridge to a queue or a topic, CloudWatch to an
 * encrypted alert topic, log delivery to a bucket — for this account's resources only.
 */
function keyPolicy(scope: AwsScope): Output<string> {
  const account = scope.aws.getCallerIdentityOutput({}, { provider: scope.provider }).accountId;
  return account.apply((id) =>
    policyDocument([
      { Sid: 'Account', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${id}:root` }, Action: ['kms:*'], Resource: ['*'] },
      {
        Sid: 'AwsServicesDelivering',
        Effect: 'Allow',
        Principal: {
          Service: [
            'sns.amazonaws.com',
            'events.amazonaws.com',
            'cloudwatch.amazonaws.com',
            's3.amazonaws.com',
            'delivery.logs.amazonaws.com',
          ],
        },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: ['*'],
        Condition: { StringEquals: { 'aws:SourceAccount': id } },
      },
    ]),
  );
}

function kmsKeys(scope: AwsScope, keys: KeySpec[]): Record<string, Input<string>> {
  const out: Record<string, Input<string>> = {};
  const policy = keyPolicy(scope);
  for (const k of keys) {
    const key = new scope.aws.kms.Key(
      `kms-${k.name}`,
      {
        policy,
        description: k.description ?? `${k.name} (deployer, ${scope.infra.stack} ${scope.infra.environment})`,
        enableKeyRotation: k.rotation ?? true,
        deletionWindowInDays: k.deletionWindowDays ?? 30,
        multiRegion: k.multiRegion ?? false,
      },
      scope.opts(),
    );
    new scope.aws.kms.Alias(
      `kms-${k.name}`,
      { name: `alias/${scope.infra.stack}-${scope.infra.environment}-${k.name}`, targetKeyId: key.keyId },
      scope.opts({ parent: key }),
    );
    out[k.name] = key.arn;
  }
  return out;
}

function ecsCluster(scope: AwsScope, containerInsights: boolean): awsModule.ecs.Cluster {
  const cluster = new scope.aws.ecs.Cluster(
    'cluster',
    {
      name: `${scope.infra.stack}-${scope.infra.environment}`,
      settings: [{ name: 'containerInsights', value: containerInsights ? 'enabled' : 'disabled' }],
    },
    scope.opts(),
  );
  new scope.aws.ecs.ClusterCapacityProviders(
    'cluster',
    {
      clusterName: cluster.name,
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategies: [{ capacityProvider: 'FARGATE', weight: 1 }],
    },
    scope.opts({ parent: cluster }),
  );
  return cluster;
}

/** The code of the webhook forwarder (Node.js 20 on Lambda, whose runtime has the AWS SDK v3). */
const FORWARDER = `
const { SecretsManagerClient, GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager');
const { createHmac } = require('node:crypto');
const secrets = new SecretsManagerClient({});
const read = async (arn) => (arn ? (await secrets.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString : undefined);
exports.handler = async (event) => {
  const url = process.env.WEBHOOK_URL || (await read(process.env.WEBHOOK_URL_SECRET_ARN));
  const key = await read(process.env.SIGNING_SECRET_ARN);
  for (const record of event.Records) {
    const body = JSON.stringify({ source: 'deployer', stack: process.env.STACK, environment: process.env.ENVIRONMENT, alarm: JSON.parse(record.Sns.Message) });
    const headers = { 'content-type': 'application/json' };
    if (key) headers['x-deployer-signature-256'] = 'sha256=' + createHmac('sha256', key).update(body).digest('hex');
    const answer = await fetch(url, { method: 'POST', headers, body });
    if (!answer.ok) throw new Error('the webhook answered ' + answer.status);
  }
};
`;

/** The topic alerts go to (the one given, or one made with its subscriptions). */
function alertTopic(scope: AwsScope, alerts: AlertsSpec): Input<string> {
  if (alerts.snsTopic) return alerts.snsTopic;
  const { aws } = scope;
  const topic = new aws.sns.Topic(
    'alerts',
    { name: `${scope.infra.stack}-${scope.infra.environment}-alerts`, kmsMasterKeyId: 'alias/aws/sns' },
    scope.opts(),
  );
  // CloudWatch publishes to an encrypted topic only when the key lets it: the AWS managed key does for alarms.
  (alerts.emails ?? []).forEach(
    (email, i) =>
      new aws.sns.TopicSubscription(
        `alerts-email-${i}`,
        { topic: topic.arn, protocol: 'email', endpoint: email },
        scope.opts({ parent: topic }),
      ),
  );
  if (alerts.webhook) webhookForwarder(scope, topic, alerts.webhook);
  return topic.arn;
}

function webhookForwarder(scope: AwsScope, topic: awsModule.sns.Topic, webhook: NonNullable<AlertsSpec['webhook']>): void {
  const { aws, pulumi } = scope;
  const urlSecret = isSecretRef(webhook.url) ? secretArn(scope, webhook.url) : undefined;
  const signing = webhook.signingSecret ? secretArn(scope, webhook.signingSecret) : undefined;
  const readable = [urlSecret, signing].filter((x) => x !== undefined);
  const role = new aws.iam.Role(
    'alerts-forwarder',
    { name: scope.physicalName({ max: 64, suffix: '-alerts' }), assumeRolePolicy: trustPolicy(['lambda.amazonaws.com']) },
    scope.opts(),
  );
  new aws.iam.RolePolicyAttachment(
    'alerts-forwarder-logs',
    { role: role.name, policyArn: 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole' },
    scope.opts({ parent: role }),
  );
  if (readable.length > 0)
    new aws.iam.RolePolicy(
      'alerts-forwarder-secrets',
      {
        role: role.name,
        policy: pulumi
          .all(readable)
          .apply((arns) => policyDocument([{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: arns }])),
      },
      scope.opts({ parent: role }),
    );
  const name = scope.physicalName({ max: 64, suffix: '-alerts' });
  scope.logGroup(`/aws/lambda/${name}`, 'alerts-forwarder-logs');
  const fn = new aws.lambda.Function(
    'alerts-forwarder',
    {
      name,
      description: 'Forwards the stack alerts to the webhook (deployer)',
      runtime: 'nodejs20.x',
      handler: 'index.handler',
      role: role.arn,
      timeout: 30,
      code: new pulumi.asset.AssetArchive({ 'index.js': new pulumi.asset.StringAsset(FORWARDER) }),
      environment: {
        variables: {
          STACK: scope.infra.stack,
          ENVIRONMENT: scope.infra.environment,
          ...(typeof webhook.url === 'string' ? { WEBHOOK_URL: webhook.url } : {}),
          ...(urlSecret ? { WEBHOOK_URL_SECRET_ARN: urlSecret } : {}),
          ...(signing ? { SIGNING_SECRET_ARN: signing } : {}),
        },
      },
    },
    scope.opts(),
  );
  new aws.lambda.Permission(
    'alerts-forwarder',
    { action: 'lambda:InvokeFunction', function: fn.name, principal: 'sns.amazonaws.com', sourceArn: topic.arn },
    scope.opts({ parent: fn }),
  );
  new aws.sns.TopicSubscription(
    'alerts-webhook',
    { topic: topic.arn, protocol: 'lambda', endpoint: fn.arn },
    scope.opts({ parent: topic }),
  );
}

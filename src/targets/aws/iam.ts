/**
 * The IAM roles components run with (seed 004 "Security"): a TaskRole (ECS task role, Lambda
 * function role, EC2 instance role) per component, and a TaskExecutionRole for ECS (pulling the
 * image, writing logs, reading the task's secrets). Least privilege, generated: the role gets
 * exactly the access the component's references call for (StackInfra.grants: a Worker
 * consuming a queue may receive and delete its messages, nothing else), plus what the stack's
 * Security documents attach to it (their roles' policies, managed policies and boundary).
 * `DeployerExecutionRole`, what deployer itself runs as, is documented in docs/aws-target.md.
 */
import type * as awsModule from '@pulumi/aws';
import type { Input } from '@pulumi/pulumi';
import type { Grant, PolicyStatement } from '../../model/stack-infra.js';
import type { AwsScope } from './scope.js';

/** An IAM policy statement as AWS reads it. */
export interface IamStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  /** Resource policies only (a bucket's, a queue's): who. */
  Principal?: '*' | Record<string, string | string[]>;
  Action: string[];
  /** Absent in a trust policy. */
  Resource?: string[];
  Condition?: Record<string, unknown>;
}

/** The service through which a kind's data is encrypted and decrypted (KMS's kms:ViaService). */
const KMS_SERVICES: Partial<Record<string, string>> = {
  SQS: 'sqs',
  SNS: 'sns',
  S3: 's3',
  DynamoDB: 'dynamodb',
  EFS: 'elasticfilesystem',
  MSK: 'kafka',
};

/**
 * What using a component encrypted with a KMS key takes of the key: to encrypt (send, publish,
 * put) and to decrypt (receive, get). On the key itself when its ARN is known (a key of the
 * stack, or written as an ARN); otherwise on any key, but only through that kind's service in
 * that region (an alias or id of a key deployer does not make).
 */
function keyStatements(g: Grant, keyArn: string | undefined, region: string): IamStatement[] {
  const service = KMS_SERVICES[g.kind];
  if (!g.kmsKeyId || !service) return [];
  const Action = ['kms:Decrypt', 'kms:GenerateDataKey'];
  if (keyArn?.startsWith('arn:')) return [{ Effect: 'Allow', Action, Resource: [keyArn] }];
  return [
    { Effect: 'Allow', Action, Resource: ['*'], Condition: { StringEquals: { 'kms:ViaService': `${service}.${region}.amazonaws.com` } } },
  ];
}

/** The actions a grant allows, on which resources of the component it names (and of its KMS key, resolved as `keyArn`). */
export function grantStatements(g: Grant, keyArn?: string, region = 'us-east-1'): IamStatement[] {
  const access = accessStatements(g);
  return access.length > 0 ? [...access, ...keyStatements(g, keyArn, region)] : [];
}

function accessStatements(g: Grant): IamStatement[] {
  const arn = g.arn as string;
  const allow = (Action: string[], Resource: string[]): IamStatement[] => (Action.length ? [{ Effect: 'Allow', Action, Resource }] : []);
  switch (`${g.kind}:${g.access}`) {
    case 'SQS:use':
      return allow(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], [arn]);
    case 'SQS:consume':
      return allow(
        ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        [arn],
      );
    case 'SNS:use':
      return allow(['sns:Publish'], [arn]);
    case 'S3:use':
      return [...allow(['s3:ListBucket'], [arn]), ...allow(['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], [`${arn}/*`])];
    case 'S3:consume':
      return allow(['s3:GetObject'], [`${arn}/*`]);
    case 'DynamoDB:use':
      return allow(
        [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:Query',
          'dynamodb:Scan',
          'dynamodb:BatchGetItem',
          'dynamodb:BatchWriteItem',
          'dynamodb:ConditionCheckItem',
        ],
        [arn, `${arn}/index/*`],
      );
    case 'DynamoDB:consume':
      return allow(
        ['dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:DescribeStream', 'dynamodb:ListStreams'],
        [`${arn}/stream/*`],
      );
    case 'EventBridge:use':
      return allow(['events:PutEvents'], [arn]);
    case 'Lambda:use':
      return allow(['lambda:InvokeFunction'], [arn]);
    case 'EFS:use':
      return allow(['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'], [arn]);
    case 'MSK:use':
      return allow(
        [
          'kafka-cluster:Connect',
          'kafka-cluster:DescribeCluster',
          'kafka-cluster:DescribeTopic',
          'kafka-cluster:ReadData',
          'kafka-cluster:WriteData',
        ],
        [arn, arn.replace(':cluster/', ':topic/') + '/*'],
      );
    case 'MSK:consume':
      return allow(['kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers', 'kafka-cluster:Connect', 'kafka-cluster:ReadData'], [arn]);
    default:
      // SNS, EventBridge and S3 deliver to a consumer through a resource policy, not its role.
      return [];
  }
}

/** A Security policy's statements as AWS reads them (their valueFrom resources already resolved). */
export function securityStatements(statements: readonly PolicyStatement[]): IamStatement[] {
  return statements.map((s) => ({
    ...(s.sid ? { Sid: s.sid } : {}),
    Effect: s.effect ?? 'Allow',
    Action: s.actions,
    Resource: s.resources as string[],
    ...(s.conditions ? { Condition: s.conditions } : {}),
  }));
}

/** A policy document. */
export function policyDocument(statements: readonly IamStatement[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/** Who may assume a role: AWS services by name, anything else as an AWS principal (an ARN). */
export function trustPolicy(principals: readonly string[]): string {
  const services = principals.filter((p) => p.endsWith('.amazonaws.com'));
  const accounts = principals.filter((p) => !p.endsWith('.amazonaws.com'));
  return policyDocument([
    ...(services.length ? [{ Effect: 'Allow' as const, Principal: { Service: services }, Action: ['sts:AssumeRole'] }] : []),
    ...(accounts.length ? [{ Effect: 'Allow' as const, Principal: { AWS: accounts }, Action: ['sts:AssumeRole'] }] : []),
  ]);
}

/** A component's role and what is attached to it: what runs as the role waits for all of it. */
export interface ComponentRole {
  role: awsModule.iam.Role;
  /** Its inline policies and managed policy attachments. */
  attached: Array<awsModule.iam.RolePolicy | awsModule.iam.RolePolicyAttachment>;
}

/**
 * The role the component runs with (`principal` assumes it: ecs-tasks, lambda or ec2). Its
 * inline policies: `grants` (what its references call for) and each attached Security role's
 * policies; its managed policies and boundary those of the attached roles (and the stack's).
 * `extra` adds statements the kind itself needs (a Lambda reading its queue, X-Ray ...). What
 * runs as the role should depend on `attached`: IAM takes a policy into account only once it is
 * attached, and a task started before would be refused what it was granted.
 */
export function componentRole(
  scope: AwsScope,
  principal: string,
  extra: IamStatement[] = [],
  logicalName = 'task-role',
  nameSuffix = '-task',
): ComponentRole {
  const { aws } = scope;
  const attachedRoles = scope.infra.iam.roles;
  const trusted = [...new Set([principal, ...attachedRoles.flatMap((r) => r.assumedBy)])].sort();
  const boundary = attachedRoles.find((r) => r.permissionsBoundary)?.permissionsBoundary ?? scope.infra.iam.permissionsBoundary;
  const maxSession = Math.max(0, ...attachedRoles.map((r) => r.maxSessionDuration ?? 0));
  const granted = [...scope.infra.grants.flatMap((g) => grantStatements(g, scope.kmsKey(g.kmsKeyId), scope.infra.region)), ...extra];
  const inline: Array<{ name: string; policy: Input<string> }> = [];
  if (granted.length > 0) inline.push({ name: 'deployer-grants', policy: policyDocument(granted) });
  for (const role of attachedRoles)
    for (const p of role.policies)
      inline.push({ name: `${role.name}-${p.name}`, policy: policyDocument(securityStatements(p.statements)) });
  const role = new aws.iam.Role(
    logicalName,
    {
      name: scope.physicalName({ max: 64, suffix: nameSuffix }),
      description: attachedRoles.map((r) => r.description).find(Boolean) ?? `what ${scope.id} runs as (deployer)`,
      assumeRolePolicy: trustPolicy(trusted),
      ...(boundary ? { permissionsBoundary: boundary } : {}),
      ...(maxSession > 0 ? { maxSessionDuration: maxSession } : {}),
    },
    scope.opts(),
  );
  const attached: ComponentRole['attached'] = inline.map(
    (p) =>
      new aws.iam.RolePolicy(`${logicalName}-${p.name}`, { role: role.name, name: p.name, policy: p.policy }, scope.opts({ parent: role })),
  );
  const managed = [...new Set(attachedRoles.flatMap((r) => r.managedPolicies ?? []))].sort();
  managed.forEach((arn, i) =>
    attached.push(
      new aws.iam.RolePolicyAttachment(`${logicalName}-managed-${i}`, { role: role.name, policyArn: arn }, scope.opts({ parent: role })),
    ),
  );
  return { role, attached };
}

/**
 * What the compute and messaging kinds (Lambda, EC2Instance, EFS, EBS, SNS, EventBridge, Kafka,
 * MSK) share on AWS: schedules written as the schemas allow (cron of 5 or 6 fields, @daily,
 * rate(...)) in the form EventBridge and Data Lifecycle Manager read, the parts of an ARN a
 * reference resolves to, alarms of one part of a component (an instance, a rule, a broker),
 * the queue policies that let a topic or a rule send to a queue of the stack, a security group
 * of the component's own, and whether a data store is protected from deletion.
 */
import type * as awsModule from '@pulumi/aws';
import type { Input } from '@pulumi/pulumi';
import { DeployerError } from '../../../errors.js';
import { addAlarms, type MetricCatalog } from '../alarms.js';
import { policyDocument, type IamStatement } from '../iam.js';
import type { AwsScope } from '../scope.js';

const MACROS: Record<string, string> = {
  '@yearly': 'cron(0 0 1 1 ? *)',
  '@annually': 'cron(0 0 1 1 ? *)',
  '@monthly': 'cron(0 0 1 * ? *)',
  '@weekly': 'cron(0 0 ? * SUN *)',
  '@daily': 'cron(0 0 * * ? *)',
  '@hourly': 'cron(0 * * * ? *)',
};

/** A day of the week of a 5-field cron (0 or 7 Sunday) as EventBridge numbers it (1 Sunday ... 7 Saturday). */
function weekday(day: string, where: string): string {
  if (!/^\d+$/.test(day)) return day; // MON, SUN, L ...: the same in both
  const n = Number(day);
  if (n > 7) throw new DeployerError('INVALID_INPUT', `${where}: no day of the week ${day}`);
  return String((n % 7) + 1);
}

function weekdays(field: string, where: string): string {
  if (field.includes('/'))
    throw new DeployerError('INVALID_INPUT', `${where}: EventBridge takes no step (/) in the day of the week: list the days`);
  return field
    .split(',')
    .map((item) => {
      const [days, nth] = item.split('#');
      const range = days!
        .split('-')
        .map((d) => weekday(d, where))
        .join('-');
      return nth === undefined ? range : `${range}#${nth}`;
    })
    .join(',');
}

/**
 * A schedule of the schemas (cronSchedule) as EventBridge and Data Lifecycle Manager write it:
 * `cron(min hour day month weekday year)`, where one of day and weekday is `?`, or `rate(...)`.
 * Six fields are taken as EventBridge's own form.
 */
export function awsSchedule(expression: string, where: string): string {
  const text = expression.trim();
  if (MACROS[text]) return MACROS[text];
  const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(text);
  if (rate) return `rate(${rate[1]} ${rate[2]}${rate[1] === '1' ? '' : 's'})`;
  const fields = text.split(/\s+/);
  if (fields.length === 6) return `cron(${fields.join(' ')})`;
  const [minute, hour, day, month, dow] = fields as [string, string, string, string, string];
  if (dow === '*' || dow === '?') return `cron(${minute} ${hour} ${day === '?' ? '*' : day} ${month} ? *)`;
  if (day === '*' || day === '?') return `cron(${minute} ${hour} ? ${month} ${weekdays(dow, where)} *)`;
  throw new DeployerError('INVALID_INPUT', `${where}: "${expression}" names both a day of the month and of the week`, {
    details: ['EventBridge runs on one or the other: set one of them to *'],
  });
}

/** The parts of an ARN: its service, region, account, and the name at its end (after the last `:` or `/`). */
export function arnParts(arn: string): { service: string; region: string; account: string; name: string } {
  const parts = arn.split(':');
  return {
    service: parts[2] ?? '',
    region: parts[3] ?? '',
    account: parts[4] ?? '',
    name: parts.slice(5).join(':').split(/[:/]/).pop() ?? '',
  };
}

/**
 * The alarms of one part of the component (`part` is put after each alert's name, so that an
 * instance, a rule or a broker has alarms of its own), or of the whole component without `part`.
 */
export function alarmsFor(scope: AwsScope, catalog: MetricCatalog, part?: string): awsModule.cloudwatch.MetricAlarm[] {
  return addAlarms(scope, catalog, part === undefined ? {} : { part: { suffix: part, label: part } });
}

/** A service that may send to a queue, from one resource (a topic, a rule). */
export interface QueueSender {
  queueArn: string;
  service: 'sns.amazonaws.com' | 'events.amazonaws.com';
  sourceArn: Input<string>;
}

/**
 * Queue policies letting each sender send to its queue, one policy per queue (SQS keeps one).
 * Only queues this stack made in this environment (their name starts `<stack>-<env>-`): the
 * policy replaces the queue's whole policy, which deployer may not do to a queue someone else
 * manages; such a queue is said in the log, to be given the permission where it is managed.
 */
export function queuePolicies(scope: AwsScope, senders: QueueSender[], parent?: awsModule.cloudwatch.EventBus | awsModule.sns.Topic): void {
  const { pulumi } = scope;
  const prefix = `${scope.infra.stack}-${scope.infra.environment}-`;
  const byQueue = new Map<string, QueueSender[]>();
  for (const s of senders) byQueue.set(s.queueArn, [...(byQueue.get(s.queueArn) ?? []), s]);
  [...byQueue].forEach(([queueArn, list], i) => {
    const { region, account, name } = arnParts(queueArn);
    if (!name.startsWith(prefix)) {
      pulumi.log.warn(
        `${scope.id}: the queue ${name} was not made by this stack: allow ${list[0]!.service} to send to it where it is managed`,
      );
      return;
    }
    const policy = pulumi.all(list.map((s) => s.sourceArn)).apply((sources) =>
      policyDocument(
        list.map((s, j): IamStatement => ({
          Sid: `Allow${s.service.split('.')[0]}${j}`,
          Effect: 'Allow',
          Principal: { Service: s.service },
          Action: ['sqs:SendMessage'],
          Resource: [queueArn],
          Condition: { ArnEquals: { 'aws:SourceArn': sources[j]! } },
        })),
      ),
    );
    new scope.aws.sqs.QueuePolicy(
      `queue-policy-${i}`,
      { queueUrl: `https://sqs.${region}.amazonaws.com/${account}/${name}`, policy },
      scope.opts(parent ? { parent } : {}),
    );
  });
}

/**
 * A security group of the component's own, for what names none: nothing in, everything out
 * (it reaches what it needs; nothing reaches it but through the groups the stack's Security gives).
 */
export function ownSecurityGroup(scope: AwsScope, what: string): awsModule.ec2.SecurityGroup {
  const group = new scope.aws.ec2.SecurityGroup(
    'security-group',
    {
      name: scope.physicalName({ max: 255 }),
      description: `${what} ${scope.id}: nothing in, everything out (deployer)`,
      vpcId: scope.vpcId(),
      tags: { Name: scope.baseName },
    },
    scope.opts(),
  );
  new scope.aws.vpc.SecurityGroupEgressRule(
    'security-group-egress',
    { securityGroupId: group.id, ipProtocol: '-1', cidrIpv4: '0.0.0.0/0', description: 'everything out' },
    scope.opts({ parent: group }),
  );
  return group;
}

/** The component's security groups: those its spec names, else one of its own. */
export function securityGroupsOrOwn(scope: AwsScope, what: string): Array<Input<string>> {
  const named = scope.securityGroupIds();
  return named.length > 0 ? named : [ownSecurityGroup(scope, what).id];
}

/**
 * Whether a data store (a file system, a volume, a cluster) is protected from deletion: as the
 * spec says, else in production. AWS has no deletion protection of its own for these: Pulumi's
 * `protect` makes a destroy (or a replacement) refuse until it is turned off.
 */
export function protectedStore(scope: AwsScope, deletionProtection: boolean | undefined): boolean {
  return deletionProtection ?? scope.isProduction;
}

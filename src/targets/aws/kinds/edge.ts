/**
 * What the edge kinds (ALB, NLB, CloudFront, APIGateway) share on AWS: telling a component id
 * (a MicroService that attaches itself) from a value a reference resolved to, the us-east-1
 * provider CloudFront's logs and metrics live in, and their alarms. Their alarms need what
 * addAlarms (alarms.ts) does not do: a sum of metrics, alone or as the part of a rate (an ALB's
 * 5xx are its own and its targets'), a latency percentile the alert need not repeat (latency-p99
 * is a p99 unless its statistic says otherwise; Observability cannot write p50), and a region
 * of their own (CloudFront's). Sums are made here the way addAlarms makes the others (same
 * names, descriptions, thresholds, actions); the rest goes through addAlarms itself.
 */
import type * as awsModule from '@pulumi/aws';
import type { CustomResourceOptions, Input } from '@pulumi/pulumi';
import { DeployerError } from '../../../errors.js';
import type { ComponentAlarm } from '../../../model/stack-infra.js';
import { durationMs } from '../../../util/duration.js';
import { addAlarms, type MetricCatalog, type MetricRef } from '../alarms.js';
import type { AwsScope } from '../scope.js';

/** `<service>/<component>`, as a component id is written (a resolved reference is an ARN, an id, an address). */
const COMPONENT_ID = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\/[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function isComponentId(v: unknown): v is string {
  return typeof v === 'string' && COMPONENT_ID.test(v);
}

/** A translation that cannot be made from the spec: says what, and what to write instead. */
export function refuse(scope: AwsScope, message: string, ...details: string[]): DeployerError {
  return new DeployerError('INVALID_INPUT', `${scope.id}: ${message}`, details.length ? { details } : {});
}

/** The region an ARN names (`arn:aws:acm:us-east-1:...` -> us-east-1). */
export function arnRegion(arn: string): string | undefined {
  return arn.split(':')[3] || undefined;
}

/** What an ARN names after its account: `targetgroup/name/id`, `listener/app/...`, `function:name`. */
export function arnResource(value: string): string | undefined {
  return /^arn:aws[a-z-]*:[a-z0-9-]+:[^:]*:[^:]*:(.+)$/.exec(value)?.[1];
}

/**
 * The provider of the component's resources that must be in us-east-1 (CloudFront's metrics
 * and log deliveries): the component's own when it deploys there, else one of its own, with
 * the same default tags.
 */
export function usEast1Provider(scope: AwsScope): awsModule.Provider {
  if (scope.infra.region === 'us-east-1') return scope.provider;
  return new scope.aws.Provider('us-east-1', { region: 'us-east-1', defaultTags: { tags: scope.tags } });
}

/**
 * A sum of several metrics (an ALB's unhealthy targets, over its target groups), or a rate in
 * percent whose part is such a sum (its 5xx: its own and its targets'). Each part's statistic
 * is its own (Sum unless it says).
 */
export interface SummedRate {
  parts: MetricRef[];
  whole?: MetricRef;
}

export interface EdgeAlarmOptions {
  /** Alerts measured as a summed rate, by metric. */
  sums?: Partial<Record<string, SummedRate>>;
  /** Where the metrics are, when not in the component's region (CloudFront: us-east-1). */
  provider?: awsModule.Provider;
  region?: string;
}

const COMPARISON: Record<string, string> = {
  '>': 'GreaterThanThreshold',
  '>=': 'GreaterThanOrEqualToThreshold',
  '<': 'LessThanThreshold',
  '<=': 'LessThanOrEqualToThreshold',
};

/** latency-p99 is a p99 unless the alert says otherwise (Observability's enum has no p50 to say it with). */
function withPercentile(alarm: ComponentAlarm): ComponentAlarm {
  const p = /^latency-(p\d+)$/.exec(alarm.metric)?.[1];
  return p && alarm.statistic === undefined ? { ...alarm, statistic: p } : alarm;
}

/**
 * The component's alarms: those of `catalog` through addAlarms, those of `sums` here. In
 * another region than the alert topic's, an alarm cannot notify it (CloudWatch sends only to a
 * topic of its own region): it is made without actions, and the log says so.
 */
export function addEdgeAlarms(scope: AwsScope, catalog: MetricCatalog, options: EdgeAlarmOptions = {}): void {
  const sums = options.sums ?? {};
  const all = scope.infra.observability.alarms.map(withPercentile);
  let topic = scope.infra.platform['alertTopicArn'] as string | undefined;
  if (topic && options.region && arnRegion(topic) !== options.region) {
    scope.pulumi.log.warn(
      `${scope.id}: its metrics are in ${options.region}, its alert topic in ${arnRegion(topic)}; CloudWatch notifies only a topic of its own region, so its alarms notify no one`,
    );
    topic = undefined;
  }
  const opts = (): CustomResourceOptions => (options.provider ? { provider: options.provider } : scope.opts());
  // addAlarms as it is, on a view of the scope: these alarms, this topic, this provider.
  const view = Object.create(scope) as AwsScope;
  const platform = { ...scope.infra.platform, alertTopicArn: topic };
  if (!topic) delete platform.alertTopicArn;
  Object.defineProperty(view, 'infra', {
    value: { ...scope.infra, platform, observability: { ...scope.infra.observability, alarms: all.filter((a) => !sums[a.metric]) } },
  });
  Object.defineProperty(view, 'opts', { value: (extra: CustomResourceOptions = {}) => ({ ...opts(), ...extra }) });
  addAlarms(view, catalog);
  for (const alarm of all) {
    const rate = sums[alarm.metric];
    if (rate) summedRateAlarm(scope, alarm, rate, topic, opts());
  }
}

function summedRateAlarm(
  scope: AwsScope,
  alarm: ComponentAlarm,
  rate: SummedRate,
  topic: string | undefined,
  opts: CustomResourceOptions,
): awsModule.cloudwatch.MetricAlarm {
  const period = Math.max(10, Math.round(durationMs(alarm.period, '60s') / 1000));
  const stat = (m: MetricRef) => ({
    metric: {
      namespace: m.namespace,
      metricName: m.metricName,
      dimensions: m.dimensions as Record<string, Input<string>>,
      period,
      stat: m.statistic ?? 'Sum',
    },
    returnData: false,
  });
  const parts = rate.parts.map((m, i) => ({ id: `part${i}`, ...stat(m) }));
  // FILL(…, 0): a period with no 5xx at all has no datapoint, which is a rate of 0, not a gap.
  const sum = parts.map((p) => `FILL(${p.id}, 0)`).join(' + ');
  const result = rate.whole
    ? [
        { id: 'whole', ...stat(rate.whole) },
        { id: 'rate', expression: `100 * (${sum}) / whole`, label: `${alarm.metric} (%)`, returnData: true },
      ]
    : [{ id: 'total', expression: sum, label: alarm.metric, returnData: true }];
  return new scope.aws.cloudwatch.MetricAlarm(
    `alarm-${alarm.name}`,
    {
      name: `${scope.baseName}-${alarm.name}`,
      alarmDescription: `${alarm.description ?? alarm.name} (severity ${alarm.severity ?? 'warning'}; deployer alert ${alarm.name})`,
      comparisonOperator: COMPARISON[alarm.comparison ?? '>']!,
      threshold: alarm.threshold,
      evaluationPeriods: alarm.evaluationPeriods ?? 1,
      treatMissingData: 'notBreaching',
      ...(topic ? { alarmActions: [topic], okActions: [topic] } : {}),
      metricQueries: [...parts, ...result],
    },
    opts,
  );
}

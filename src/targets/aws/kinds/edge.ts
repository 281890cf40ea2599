/**
 * What the edge kinds (ALB, NLB, CloudFront, APIGateway) share on AWS: telling a component id
 * (a MicroService that attaches itself) from a value a reference resolved to, the us-east-1
 * provider CloudFront's logs and metrics live in, and their alarms. Their alarms need what
 * addAlarms (alarms.ts) does not do: a sum of metrics, alone or as the part of a rate (an ALB's
 * 5xx are its own and its targets'), a latency percentile the alert need not repeat (latency-p99
 * is a p99 unless its statistic says otherwise; Observability cannot write p50), and a region
 * of their own (CloudFront's): said here in the terms of alarms.ts, which makes them.
 */
import type * as awsModule from '@pulumi/aws';
import { DeployerError } from '../../../errors.js';
import type { ComponentAlarm } from '../../../model/stack-infra.js';
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

/** latency-p99 is a p99 unless the alert says otherwise (Observability's enum has no p50 to say it with). */
function withPercentile(alarm: ComponentAlarm): ComponentAlarm {
  const p = /^latency-(p\d+)$/.exec(alarm.metric)?.[1];
  return p && alarm.statistic === undefined ? { ...alarm, statistic: p } : alarm;
}

/** A summed metric as alarms.ts takes it: a rate whose part is the sum, or metric math summing them. */
function summed(sum: SummedRate): MetricCatalog[string] {
  if (sum.whole) return { part: sum.parts, whole: sum.whole };
  const metrics = sum.parts.map((m, i) => ({ ...m, id: `part${i}`, stat: m.statistic ?? 'Sum' }));
  // FILL(..., 0): a period with nothing to count has no datapoint, which is 0, not a gap.
  return { metrics, expression: metrics.map((m) => `FILL(${m.id}, 0)`).join(' + ') };
}

/**
 * The component's alarms, from `catalog` and `sums`. In another region than the alert topic's,
 * an alarm cannot notify it (CloudWatch sends only to a topic of its own region): it is made
 * without actions, and the log says so.
 */
export function addEdgeAlarms(scope: AwsScope, catalog: MetricCatalog, options: EdgeAlarmOptions = {}): void {
  const sums = Object.fromEntries(Object.entries(options.sums ?? {}).map(([metric, sum]) => [metric, summed(sum!)]));
  const topic = scope.infra.platform['alertTopicArn'] as string | undefined;
  const elsewhere = topic !== undefined && options.region !== undefined && arnRegion(topic) !== options.region;
  if (elsewhere)
    scope.pulumi.log.warn(
      `${scope.id}: its metrics are in ${options.region}, its alert topic in ${arnRegion(topic)}; CloudWatch notifies only a topic of its own region, so its alarms notify no one`,
    );
  addAlarms(
    scope,
    { ...catalog, ...sums },
    {
      alerts: scope.infra.observability.alarms.map(withPercentile),
      ...(options.provider ? { opts: { provider: options.provider } } : {}),
      ...(elsewhere ? { topic: null } : {}),
    },
  );
}

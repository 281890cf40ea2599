/**
 * Observability's alerts as CloudWatch alarms, written once for every kind. Each kind says which
 * of the alert metrics it has and where CloudWatch keeps them (a MetricCatalog): a metric, a
 * rate (100 × part / whole, a part summing several metrics: an ALB's 5xx are its own and its
 * targets'), or metric math of its own (over the target groups a blue-green deployment moves
 * traffic between). An alert that applies to the component becomes one alarm notifying the
 * stack's alert topic — one per member when a kind measures its members apart (a node, a
 * broker). An alert whose metric the kind does not have is said in the engine's log (it applies
 * by kind or service, and may not fit every component it reaches), never silently dropped.
 */
import type * as awsModule from '@pulumi/aws';
import type { CustomResourceOptions, Input } from '@pulumi/pulumi';
import type { ComponentAlarm } from '../../model/stack-infra.js';
import { durationMs } from '../../util/duration.js';
import type { AwsScope } from './scope.js';

/** A CloudWatch metric of the component. */
export interface MetricRef {
  namespace: string;
  metricName: string;
  dimensions: Record<string, Input<string>>;
  /** The statistic when the alert does not say: Average, Sum, Maximum ... or a percentile (p99). */
  statistic?: string;
}

/** A share in percent: 100 × part / whole (an error rate); a part of several metrics is their sum. */
export interface RateRef {
  part: MetricRef | MetricRef[];
  whole: MetricRef;
}

/** Metric math: its metrics by id (each with its statistic), steps by id, and the expression watched. */
export interface ExpressionRef {
  metrics: Array<MetricRef & { id: string; stat: string }>;
  steps?: Array<{ id: string; expression: string }>;
  expression: string;
}

/** The alert metrics a kind has. */
export type MetricCatalog = Partial<Record<string, MetricRef | RateRef | ExpressionRef>>;

export interface AlarmOptions {
  /** The alerts to make alarms of (default: every alert that applies to the component). */
  alerts?: readonly ComponentAlarm[];
  /** A member measured on its own: its alarms' names end with `-suffix`, their descriptions name `label`. */
  part?: { suffix: string; label?: string };
  /** Options beyond the component's provider (CloudFront's metrics are in us-east-1, with a provider of their own). */
  opts?: CustomResourceOptions;
  /** The topic notified instead of the stack's (null: none; an alarm notifies only a topic of its own region). */
  topic?: Input<string> | null;
}

export const COMPARISON: Record<string, string> = {
  '>': 'GreaterThanThreshold',
  '>=': 'GreaterThanOrEqualToThreshold',
  '<': 'LessThanThreshold',
  '<=': 'LessThanOrEqualToThreshold',
};

const isRate = (m: MetricRef | RateRef | ExpressionRef): m is RateRef => 'part' in m;
const isExpression = (m: MetricRef | RateRef | ExpressionRef): m is ExpressionRef => 'expression' in m;
const isPercentile = (s: string): boolean => /^p\d+(\.\d+)?$/.test(s);

/** The statistic watched: the alert's, else the metric's own (either may be a percentile, which CloudWatch calls extended). */
function statisticOf(alarm: ComponentAlarm, metric: MetricRef): { statistic?: string; extendedStatistic?: string } {
  const s = alarm.statistic ?? metric.statistic ?? 'average';
  return isPercentile(s) ? { extendedStatistic: s } : { statistic: s[0]!.toUpperCase() + s.slice(1) };
}

/** The name of the alarm an alert makes on the component (or one of its members): what a deployment's alarms name. */
export function alarmName(scope: AwsScope, alert: { name: string }, part?: AlarmOptions['part']): string {
  return `${scope.baseName}-${alert.name}${part ? `-${part.suffix}` : ''}`;
}

/** Whether the catalog can measure the alert (a custom alert measures itself). */
export function measures(catalog: MetricCatalog, alert: ComponentAlarm): boolean {
  return (alert.metric === 'custom' && alert.customMetric !== undefined) || catalog[alert.metric] !== undefined;
}

/** The metric queries of a rate or of metric math. */
function queries(
  metric: RateRef | ExpressionRef,
  period: number,
  label: string,
): awsModule.types.input.cloudwatch.MetricAlarmMetricQuery[] {
  const stat = (m: MetricRef, s: string) => ({
    namespace: m.namespace,
    metricName: m.metricName,
    dimensions: m.dimensions,
    period,
    stat: s,
  });
  if (isExpression(metric))
    return [
      ...metric.metrics.map((m) => ({ id: m.id, metric: stat(m, m.stat), returnData: false })),
      ...(metric.steps ?? []).map((s) => ({ ...s, returnData: false })),
      { id: 'value', expression: metric.expression, label, returnData: true },
    ];
  const parts = [metric.part].flat();
  return [
    ...parts.map((p, i) => ({ id: `part${i}`, metric: stat(p, 'Sum'), returnData: false })),
    { id: 'whole', metric: stat(metric.whole, 'Sum'), returnData: false },
    // FILL(..., 0): a period without a single error has no datapoint, which is a rate of 0.
    {
      id: 'rate',
      expression: `100 * (${parts.map((_, i) => `FILL(part${i}, 0)`).join(' + ')}) / whole`,
      label: `${label} (%)`,
      returnData: true,
    },
  ];
}

/** The alarms of the alerts that apply to the component (or `options.alerts`), from the metrics its kind has. */
export function addAlarms(scope: AwsScope, catalog: MetricCatalog, options: AlarmOptions = {}): awsModule.cloudwatch.MetricAlarm[] {
  const { aws, pulumi } = scope;
  const topic = options.topic === undefined ? (scope.infra.platform['alertTopicArn'] as string | undefined) : options.topic;
  const part = options.part;
  const alarms: awsModule.cloudwatch.MetricAlarm[] = [];
  for (const alarm of options.alerts ?? scope.infra.observability.alarms) {
    const metric = alarm.metric === 'custom' && alarm.customMetric ? customMetric(alarm) : catalog[alarm.metric];
    if (!metric) {
      pulumi.log.warn(
        `${scope.id}: alert ${alarm.name} measures ${alarm.metric}, which a ${scope.kind} does not have: no alarm made for it`,
      );
      continue;
    }
    const period = Math.max(10, Math.round(durationMs(alarm.period, '60s') / 1000));
    const common = {
      name: alarmName(scope, alarm, part),
      alarmDescription: `${alarm.description ?? alarm.name} (severity ${alarm.severity ?? 'warning'}; deployer alert ${alarm.name}${part?.label ? `, ${part.label}` : ''})`,
      comparisonOperator: COMPARISON[alarm.comparison ?? '>']!,
      threshold: alarm.threshold,
      evaluationPeriods: alarm.evaluationPeriods ?? 1,
      treatMissingData: 'notBreaching',
      ...(topic ? { alarmActions: [topic], okActions: [topic] } : {}),
    };
    const args: awsModule.cloudwatch.MetricAlarmArgs =
      isRate(metric) || isExpression(metric)
        ? { ...common, metricQueries: queries(metric, period, alarm.metric) }
        : {
            ...common,
            namespace: metric.namespace,
            metricName: metric.metricName,
            dimensions: metric.dimensions,
            period,
            ...statisticOf(alarm, metric),
          };
    const logical = `alarm-${alarm.name}${part ? `-${part.suffix}` : ''}`;
    alarms.push(new aws.cloudwatch.MetricAlarm(logical, args, scope.opts(options.opts ?? {})));
  }
  return alarms;
}

function customMetric(alarm: ComponentAlarm): MetricRef {
  const c = alarm.customMetric!;
  return { namespace: c.namespace, metricName: c.name, dimensions: c.dimensions ?? {} };
}

/**
 * Observability's alerts as CloudWatch alarms. Each kind says which of the alert metrics it
 * has and where CloudWatch keeps them (a MetricCatalog); an alert that applies to the component
 * becomes one alarm, notifying the stack's alert topic. An alert whose metric the kind does not
 * have is said in the engine's log (it applies by kind or service, and may not fit every
 * component it reaches), never silently dropped.
 */
import type * as awsModule from '@pulumi/aws';
import type { Input } from '@pulumi/pulumi';
import type { ComponentAlarm } from '../../model/stack-infra.js';
import { durationMs } from '../../util/duration.js';
import type { AwsScope } from './scope.js';

/** A CloudWatch metric of the component. */
export interface MetricRef {
  namespace: string;
  metricName: string;
  dimensions: Record<string, Input<string>>;
  /** CloudWatch's statistic when the alert does not say (Average, Sum, Maximum ...). */
  statistic?: string;
}

/** A share in percent: 100 × part / whole (an error rate). */
export interface RateRef {
  part: MetricRef;
  whole: MetricRef;
}

/** The alert metrics a kind has. */
export type MetricCatalog = Partial<Record<string, MetricRef | RateRef>>;

const COMPARISON: Record<string, string> = {
  '>': 'GreaterThanThreshold',
  '>=': 'GreaterThanOrEqualToThreshold',
  '<': 'LessThanThreshold',
  '<=': 'LessThanOrEqualToThreshold',
};

/** Observability's statistic as CloudWatch names it. */
function statisticOf(alarm: ComponentAlarm, metric: MetricRef): { statistic?: string; extendedStatistic?: string } {
  const s = alarm.statistic;
  if (s === undefined) return { statistic: metric.statistic ?? 'Average' };
  if (/^p\d+$/.test(s)) return { extendedStatistic: s };
  return { statistic: s[0]!.toUpperCase() + s.slice(1) };
}

const isRate = (m: MetricRef | RateRef): m is RateRef => 'part' in m;

/** The alarms of the alerts that apply to the component, from the metrics its kind has. */
export function addAlarms(scope: AwsScope, catalog: MetricCatalog): awsModule.cloudwatch.MetricAlarm[] {
  const { aws, pulumi } = scope;
  const topic = scope.infra.platform['alertTopicArn'] as string | undefined;
  const alarms: awsModule.cloudwatch.MetricAlarm[] = [];
  for (const alarm of scope.infra.observability.alarms) {
    const metric = alarm.metric === 'custom' && alarm.customMetric ? customMetric(alarm) : catalog[alarm.metric];
    if (!metric) {
      pulumi.log.warn(
        `${scope.id}: alert ${alarm.name} measures ${alarm.metric}, which a ${scope.kind} does not have: no alarm made for it`,
      );
      continue;
    }
    const period = Math.max(10, Math.round(durationMs(alarm.period, '60s') / 1000));
    const common = {
      name: `${scope.baseName}-${alarm.name}`,
      alarmDescription: `${alarm.description ?? alarm.name} (severity ${alarm.severity ?? 'warning'}; deployer alert ${alarm.name})`,
      comparisonOperator: COMPARISON[alarm.comparison ?? '>']!,
      threshold: alarm.threshold,
      evaluationPeriods: alarm.evaluationPeriods ?? 1,
      treatMissingData: 'notBreaching',
      ...(topic ? { alarmActions: [topic], okActions: [topic] } : {}),
    };
    const args: awsModule.cloudwatch.MetricAlarmArgs = isRate(metric)
      ? {
          ...common,
          metricQueries: [
            { id: 'part', metric: { ...metricStat(metric.part), period, stat: 'Sum' } },
            { id: 'whole', metric: { ...metricStat(metric.whole), period, stat: 'Sum' } },
            { id: 'rate', expression: '100 * part / whole', label: `${alarm.metric} (%)`, returnData: true },
          ],
        }
      : { ...common, ...metricStat(metric), period, ...statisticOf(alarm, metric) };
    alarms.push(new aws.cloudwatch.MetricAlarm(`alarm-${alarm.name}`, args, scope.opts()));
  }
  return alarms;
}

function metricStat(m: MetricRef): { namespace: string; metricName: string; dimensions: Record<string, Input<string>> } {
  return { namespace: m.namespace, metricName: m.metricName, dimensions: m.dimensions };
}

function customMetric(alarm: ComponentAlarm): MetricRef {
  const c = alarm.customMetric!;
  return { namespace: c.namespace, metricName: c.name, dimensions: c.dimensions ?? {} };
}

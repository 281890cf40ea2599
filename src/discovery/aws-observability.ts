/**
 * Observability as it applies to one component on the aws target (aws-platform.ts gives it in
 * the component's `_stack`): the settings its kind's resources use — and only those, so that a
 * setting a kind does not use (the log retention of a bucket, which has no log group) changes
 * nothing of it, not even its plan — and the alerts that apply to it by component or service,
 * kind and environment.
 */
import type { ComponentKind } from '../model/documents.js';
import type { DesiredComponent } from '../model/desired.js';
import type { ComponentAlarm, StackInfra } from '../model/stack-infra.js';
import type { StackDoc } from './components.js';

type Spec = Record<string, unknown>;
const specOf = (d: StackDoc): Spec => ((d.data as { spec?: Spec } | null)?.spec ?? {}) as Spec;
const listOf = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

/** What of Observability each kind's resources use (a setting a kind does not use is not given it: changing it changes nothing of that kind). */
type ObservabilityField = Exclude<keyof StackInfra['observability'], 'alarms'>;
const LOGS: ObservabilityField[] = ['logRetentionDays'];
const CODE: ObservabilityField[] = ['logRetentionDays', 'logFormat', 'logLevel', 'tracing'];
const OBSERVABILITY_USED: Partial<Record<string, ObservabilityField[]>> = {
  Platform: LOGS,
  MicroService: CODE,
  Worker: [...CODE, 'containerInsights'],
  CronJob: [...CODE, 'containerInsights'],
  Lambda: CODE,
  RDS: [...LOGS, 'detailedMonitoring'],
  DocumentDB: LOGS,
  ElastiCacheRedis: LOGS,
  MSK: [...LOGS, 'detailedMonitoring'],
  Kafka: [...LOGS, 'detailedMonitoring'],
  APIGateway: [...LOGS, 'tracing', 'detailedMonitoring'],
  EC2Instance: ['detailedMonitoring'],
};

/** Observability's settings a kind uses. */
export function usedObservability(kind: string, doc: StackDoc | undefined): Omit<StackInfra['observability'], 'alarms'> {
  const all = observabilityOf(doc);
  const used = new Set(OBSERVABILITY_USED[kind] ?? []);
  return Object.fromEntries(Object.entries(all).filter(([k]) => used.has(k as ObservabilityField)));
}

function observabilityOf(doc: StackDoc | undefined): Omit<StackInfra['observability'], 'alarms'> {
  if (!doc) return {};
  const s = specOf(doc);
  const logging = (s['logging'] ?? {}) as Spec;
  const metrics = (s['metrics'] ?? {}) as Spec;
  const out: Omit<StackInfra['observability'], 'alarms'> = {};
  if (typeof logging['retentionDays'] === 'number') out.logRetentionDays = logging['retentionDays'];
  if (typeof logging['format'] === 'string') out.logFormat = logging['format'];
  if (typeof logging['level'] === 'string') out.logLevel = logging['level'];
  if (s['tracing']) out.tracing = s['tracing'] as NonNullable<StackInfra['observability']['tracing']>;
  if (typeof metrics['containerInsights'] === 'boolean') out.containerInsights = metrics['containerInsights'];
  if (typeof metrics['detailedMonitoring'] === 'boolean') out.detailedMonitoring = metrics['detailedMonitoring'];
  return out;
}

/** The alerts of Observability that apply to `c`: by component or service, by kind, by environment. */
export function alarmsOf(c: DesiredComponent, doc: StackDoc | undefined, environment: string): ComponentAlarm[] {
  if (!doc) return [];
  return listOf<Spec>(specOf(doc)['alerts'])
    .filter((a) => {
      const components = a['components'] as string[] | undefined;
      const kinds = a['kinds'] as ComponentKind[] | undefined;
      const environments = a['environments'] as string[] | undefined;
      if (components && !components.some((x) => x === c.id || x === c.service)) return false;
      if (kinds && !kinds.includes(c.kind as ComponentKind)) return false;
      return !environments || environments.includes(environment);
    })
    .map((a) => {
      const { components: _c, kinds: _k, environments: _e, ...alarm } = a;
      return alarm as unknown as ComponentAlarm;
    });
}

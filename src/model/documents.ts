import type { SourceLocation } from '../errors.js';

export const API_GROUPS = {
  core: 'core.deployer.io/v1',
  infra: 'infra.deployer.io/v1',
  components: 'components.deployer.io/v1',
} as const;

/** Every kind of `components.deployer.io/v1` (each has a JSON Schema in schemas/). */
export const COMPONENT_KINDS = [
  'MicroService',
  'Worker',
  'CronJob',
  'Lambda',
  'EC2Instance',
  'RDS',
  'DynamoDB',
  'DocumentDB',
  'ElastiCacheRedis',
  'ElastiCacheMemcached',
  'AWSMemoryDB',
  'S3',
  'EFS',
  'EBS',
  'SQS',
  'SNS',
  'Kafka',
  'MSK',
  'EventBridge',
  'ALB',
  'NLB',
  'CloudFront',
  'APIGateway',
] as const;
export type ComponentKind = (typeof COMPONENT_KINDS)[number];

/**
 * The kind of a component a stack deploys: a component kind, or `Platform`, the stack's shared
 * resources on the aws target (made by discovery, not written: model/stack-infra.ts).
 */
export type DeployedKind = ComponentKind | 'Platform';

export function isComponentKind(kind: string): kind is ComponentKind {
  return (COMPONENT_KINDS as readonly string[]).includes(kind);
}

/** A YAML document as written, with where it came from. */
export interface RawDocument {
  apiVersion: string;
  kind: string;
  metadata: { name: string; service?: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
  /** Where the document starts. */
  source: SourceLocation;
  /** JSON pointer -> location of that node, for error messages. */
  positions: Map<string, SourceLocation>;
  /** Index of the document inside its file (0-based). */
  docIndex: number;
}

/** `valueFrom: {component, output}` — a value produced by another component at apply time. */
export interface ValueFrom {
  component: string;
  output: string;
}

export function isValueFrom(v: unknown): v is { valueFrom: ValueFrom } {
  if (typeof v !== 'object' || v === null || !('valueFrom' in v)) return false;
  const vf = (v as { valueFrom: unknown }).valueFrom;
  return typeof vf === 'object' && vf !== null && typeof (vf as ValueFrom).component === 'string';
}

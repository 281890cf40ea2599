/**
 * The kinds the schema tests (src/discovery/schemas*.test.ts) check, and what they check them
 * with: each kind's API group and minimal document, the raw schema files, $ref resolution, and
 * a typo of a field name.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { schemasDir } from '../../src/package-info.js';

export type Json = Record<string, unknown>;
export type Schema = Record<string, unknown> & {
  properties?: Record<string, Schema>;
  $ref?: string;
  description?: string;
  type?: string | string[];
  additionalProperties?: boolean | Schema;
};

export const CORE = 'core.deployer.io/v1';
export const INFRA = 'infra.deployer.io/v1';
export const COMPONENTS = 'components.deployer.io/v1';

export const CORE_KINDS = ['Stack', 'Service'];
export const INFRA_KINDS = [
  'InfraDefaults',
  'ServiceInfraDefaults',
  'ComponentInfra',
  'Networking',
  'Security',
  'Observability',
  'Compliance',
];
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
];

/** Kinds the policy checker treats specially (see schemas/README.md, "Conventions"). */
export const STORES_DATA = [
  'S3',
  'RDS',
  'DynamoDB',
  'DocumentDB',
  'ElastiCacheRedis',
  'ElastiCacheMemcached',
  'AWSMemoryDB',
  'EFS',
  'EBS',
  'SQS',
  'SNS',
  'Kafka',
  'MSK',
];
export const STATEFUL = ['RDS', 'DynamoDB', 'DocumentDB', 'ElastiCacheRedis', 'AWSMemoryDB', 'EFS', 'EBS', 'S3', 'Kafka', 'MSK'];
export const WITH_BACKUPS = ['RDS', 'DocumentDB', 'DynamoDB', 'EFS', 'ElastiCacheRedis', 'AWSMemoryDB'];
export const SIZING: Record<string, string> = {
  RDS: 'instanceClass',
  DocumentDB: 'instanceClass',
  EC2Instance: 'instanceType',
  ElastiCacheRedis: 'nodeType',
  ElastiCacheMemcached: 'nodeType',
  AWSMemoryDB: 'nodeType',
  MSK: 'nodeType',
};

/** Objects that are free-form on purpose: partial specs and AWS documents written as YAML. */
export const FREE_FORM = new Set([
  'defs.schema.json#/definitions/partialSpec',
  'SNS.schema.json#/properties/spec/properties/subscriptions/items/properties/filterPolicy',
  'EventBridge.schema.json#/properties/spec/properties/rules/items/properties/eventPattern',
  'Security.schema.json#/properties/spec/properties/iam/properties/policies/items/properties/statements/items/properties/conditions',
]);

export const schemaFiles = readdirSync(schemasDir)
  .filter((f) => f.endsWith('.schema.json'))
  .sort();
export const rawSchemas = new Map<string, Schema>(
  schemaFiles.map((f) => [f, JSON.parse(readFileSync(path.join(schemasDir, f), 'utf8')) as Schema]),
);

export function groupOf(kind: string): string {
  if (CORE_KINDS.includes(kind)) return CORE;
  if (INFRA_KINDS.includes(kind)) return INFRA;
  return COMPONENTS;
}

export function doc(kind: string, spec?: unknown, metadata: Json = { name: 'sample' }): Json {
  return { apiVersion: groupOf(kind), kind, metadata, ...(spec === undefined ? {} : { spec }) };
}

/** Resolves a `$ref` of a schema file to the schema it points at. */
export function resolveRef(file: string, ref: string): Schema {
  const [target, pointer = ''] = ref.split('#');
  const root = rawSchemas.get(target ? target : file);
  if (!root) throw new Error(`${file}: $ref to unknown file ${ref}`);
  let node: unknown = root;
  for (const part of pointer.split('/').filter(Boolean)) node = (node as Json)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  if (node === undefined) throw new Error(`${file}: dangling $ref ${ref}`);
  return node as Schema;
}

export function specSchema(kind: string): Schema {
  return (rawSchemas.get(`${kind}.schema.json`)!.properties!['spec'] ?? {}) as Schema;
}

/** A minimal valid document per kind (spec only; undefined: no spec at all). */
export const MINIMAL: Record<string, { spec?: unknown; metadata?: Json }> = {
  Stack: { spec: { environments: ['dev'] } },
  Service: {},
  InfraDefaults: { spec: {} },
  ServiceInfraDefaults: { spec: {}, metadata: { name: 'api-defaults', service: 'api' } },
  ComponentInfra: { spec: { instanceClass: 'db.t4g.micro' }, metadata: { name: 'db', service: 'data' } },
  Networking: { spec: { vpc: { cidr: '10.0.0.0/16' } } },
  Security: { spec: {} },
  Observability: { spec: {} },
  Compliance: { spec: { rules: [{ name: 'encrypted', type: 'encryptionRequired' }] } },
  MicroService: { spec: { port: 8080 } },
  Worker: { spec: { image: 'example/worker:1' } },
  CronJob: { spec: { schedule: '0 3 * * *', image: 'example/job:1' } },
  Lambda: { spec: { runtime: 'nodejs20.x', handler: 'index.handler', code: { path: 'fn' } } },
  EC2Instance: { spec: { instanceType: 't3.micro' } },
  RDS: { spec: { engine: 'postgres' } },
  DynamoDB: { spec: { partitionKey: { name: 'pk' } } },
  DocumentDB: {},
  ElastiCacheRedis: {},
  ElastiCacheMemcached: {},
  AWSMemoryDB: {},
  S3: {},
  EFS: {},
  EBS: { spec: { sizeGb: 10 } },
  SQS: {},
  SNS: {},
  Kafka: {},
  MSK: {},
  EventBridge: {},
  ALB: {},
  NLB: {},
  CloudFront: { spec: { origins: [{ name: 'site', source: 'www.example.com' }], defaultBehavior: { origin: 'site' } } },
  APIGateway: { spec: { routes: [{ path: '/orders', target: 'orders/handler' }] } },
};

/** A plausible typo of one of `names`: two letters swapped, not itself a known name. */
export function typoOf(names: string[]): string {
  for (const n of [...names].sort()) {
    if (n.length < 4) continue;
    const t = n[0]! + n[2]! + n[1]! + n.slice(3);
    if (!names.includes(t)) return t;
  }
  throw new Error(`no typo for ${names.join(', ')}`);
}

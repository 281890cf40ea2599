/**
 * The JSON Schemas in schemas/, compiled as discovery compiles them (loadSchemas): every kind
 * accepts a minimal document and refuses a misspelled field; the conventions the policy checker
 * relies on hold; policy rules need their parameters; secrets are only references. The
 * documents of examples/ are checked against them in examples.test.ts.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { schemasDir } from '../package-info.js';
import { describeErrors, schemas, validate } from '../../test/helpers/schemas.js';

type Json = Record<string, unknown>;
type Schema = Record<string, unknown> & {
  properties?: Record<string, Schema>;
  $ref?: string;
  description?: string;
  type?: string | string[];
  additionalProperties?: boolean | Schema;
};

const CORE = 'core.deployer.io/v1';
const INFRA = 'infra.deployer.io/v1';
const COMPONENTS = 'components.deployer.io/v1';

const CORE_KINDS = ['Stack', 'Service'];
const INFRA_KINDS = ['InfraDefaults', 'ServiceInfraDefaults', 'ComponentInfra', 'Networking', 'Security', 'Observability', 'Compliance'];
const COMPONENT_KINDS = [
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
const STORES_DATA = [
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
const STATEFUL = ['RDS', 'DynamoDB', 'DocumentDB', 'ElastiCacheRedis', 'AWSMemoryDB', 'EFS', 'EBS', 'S3', 'Kafka', 'MSK'];
const WITH_BACKUPS = ['RDS', 'DocumentDB', 'DynamoDB', 'EFS', 'ElastiCacheRedis', 'AWSMemoryDB'];
const SIZING: Record<string, string> = {
  RDS: 'instanceClass',
  DocumentDB: 'instanceClass',
  EC2Instance: 'instanceType',
  ElastiCacheRedis: 'nodeType',
  ElastiCacheMemcached: 'nodeType',
  AWSMemoryDB: 'nodeType',
  MSK: 'nodeType',
};

/** Objects that are free-form on purpose: partial specs and AWS documents written as YAML. */
const FREE_FORM = new Set([
  'defs.schema.json#/definitions/partialSpec',
  'SNS.schema.json#/properties/spec/properties/subscriptions/items/properties/filterPolicy',
  'EventBridge.schema.json#/properties/spec/properties/rules/items/properties/eventPattern',
  'Security.schema.json#/properties/spec/properties/iam/properties/policies/items/properties/statements/items/properties/conditions',
]);

const schemaFiles = readdirSync(schemasDir)
  .filter((f) => f.endsWith('.schema.json'))
  .sort();
const rawSchemas = new Map<string, Schema>(
  schemaFiles.map((f) => [f, JSON.parse(readFileSync(path.join(schemasDir, f), 'utf8')) as Schema]),
);

function groupOf(kind: string): string {
  if (CORE_KINDS.includes(kind)) return CORE;
  if (INFRA_KINDS.includes(kind)) return INFRA;
  return COMPONENTS;
}

function doc(kind: string, spec?: unknown, metadata: Json = { name: 'sample' }): Json {
  return { apiVersion: groupOf(kind), kind, metadata, ...(spec === undefined ? {} : { spec }) };
}

/** Resolves a `$ref` of a schema file to the schema it points at. */
function resolveRef(file: string, ref: string): Schema {
  const [target, pointer = ''] = ref.split('#');
  const root = rawSchemas.get(target ? target : file);
  if (!root) throw new Error(`${file}: $ref to unknown file ${ref}`);
  let node: unknown = root;
  for (const part of pointer.split('/').filter(Boolean)) node = (node as Json)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  if (node === undefined) throw new Error(`${file}: dangling $ref ${ref}`);
  return node as Schema;
}

function specSchema(kind: string): Schema {
  return (rawSchemas.get(`${kind}.schema.json`)!.properties!['spec'] ?? {}) as Schema;
}

/** A minimal valid document per kind (spec only; undefined: no spec at all). */
const MINIMAL: Record<string, { spec?: unknown; metadata?: Json }> = {
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
function typoOf(names: string[]): string {
  for (const n of [...names].sort()) {
    if (n.length < 4) continue;
    const t = n[0]! + n[2]! + n[1]! + n.slice(3);
    if (!names.includes(t)) return t;
  }
  throw new Error(`no typo for ${names.join(', ')}`);
}

describe('schemas: loading', () => {
  it('compiles every schema the way discovery does, one kind per file except defs', () => {
    const expected = [...CORE_KINDS, ...INFRA_KINDS, ...COMPONENT_KINDS].sort();
    expect(schemas.kinds).toEqual(expected);
    expect(schemaFiles).toEqual([...expected.map((k) => `${k}.schema.json`), 'defs.schema.json'].sort());
    for (const kind of expected) expect(schemas.validatorFor(kind), kind).toBeTypeOf('function');
    expect(schemas.validatorFor('defs')).toBeUndefined();
  });

  it("gives each file the $id of its name, draft-07, and its kind's apiVersion and kind as constants", () => {
    for (const [file, schema] of rawSchemas) {
      expect(schema['$id'], file).toBe(`https://deployer.io/schemas/${file}`);
      expect(schema['$schema'], file).toBe('http://json-schema.org/draft-07/schema#');
      if (file === 'defs.schema.json') continue;
      const kind = file.replace('.schema.json', '');
      expect(schema.properties?.['apiVersion'], file).toMatchObject({ const: groupOf(kind) });
      expect(schema.properties?.['kind'], file).toMatchObject({ const: kind });
      expect(schema.additionalProperties, file).toBe(false);
    }
  });

  it('resolves every $ref, describes every field, and rejects unknown fields in every object', () => {
    const problems: string[] = [];
    const visit = (file: string, node: unknown, pointer: string): void => {
      if (Array.isArray(node)) {
        node.forEach((x, i) => visit(file, x, `${pointer}/${i}`));
        return;
      }
      if (node === null || typeof node !== 'object') return;
      const s = node as Schema;
      const where = `${file}#${pointer}`;
      if (typeof s.$ref === 'string') resolveRef(file, s.$ref);
      const isObject = s.type === 'object' || (Array.isArray(s.type) && s.type.length === 1 && s.type[0] === 'object');
      // Objects are written with `type: object`; `properties` without a type are constraints
      // of if/then, dependencies or allOf branches, checked as part of the object they refine.
      if (s.properties && isObject) {
        if (s.additionalProperties !== false) problems.push(`${where}: properties without additionalProperties: false`);
        for (const [name, sub] of Object.entries(s.properties)) {
          const described =
            typeof sub.description === 'string' ||
            (typeof sub.$ref === 'string' && typeof resolveRef(file, sub.$ref).description === 'string');
          if (!described) problems.push(`${where}/properties/${name}: no description`);
          // Secret-named fields (secretRef only, or marked not secret): secret-schema.test.ts.
        }
      } else if (isObject && !s.properties && typeof s.additionalProperties !== 'object' && !FREE_FORM.has(where)) {
        problems.push(`${where}: an object without properties must be a typed map or listed as free-form`);
      }
      for (const [k, v] of Object.entries(s)) {
        if (k === 'enum' || k === 'const' || k === 'default' || k === 'required') continue;
        visit(file, v, `${pointer}/${k}`);
      }
    };
    for (const [file, schema] of rawSchemas) visit(file, schema, '');
    expect(problems).toEqual([]);
  });
});

describe('schemas: every kind', () => {
  const kinds = [...CORE_KINDS, ...INFRA_KINDS, ...COMPONENT_KINDS];

  it.each(kinds)('%s: a minimal document validates', (kind) => {
    const m = MINIMAL[kind]!;
    expect(describeErrors(validate(doc(kind, m.spec, m.metadata)))).toEqual([]);
  });

  it.each(kinds)('%s: a misspelled field fails with an additionalProperties error', (kind) => {
    const m = MINIMAL[kind]!;
    const spec = specSchema(kind);
    let data: Json;
    let at: string;
    let typo: string;
    if (spec.properties) {
      typo = typoOf(Object.keys(spec.properties));
      data = doc(kind, { ...((m.spec ?? {}) as Json), [typo]: true }, m.metadata);
      at = '/spec';
    } else {
      // ComponentInfra: its spec is free-form (a partial spec); its metadata is not.
      typo = 'servcie';
      data = doc(kind, m.spec, { ...(m.metadata ?? { name: 'sample' }), [typo]: 'api' });
      at = '/metadata';
    }
    const errors = validate(data);
    expect(
      errors.some(
        (e) =>
          e.keyword === 'additionalProperties' &&
          e.instancePath === at &&
          (e.params as { additionalProperty: string }).additionalProperty === typo,
      ),
      describeErrors(errors).join('\n'),
    ).toBe(true);
  });

  it('rejects misspelled fields deep inside specs too', () => {
    const cases: Array<[Json, string, string]> = [
      [doc('RDS', { engine: 'postgres', storage: { allocatedGB: 20 } }), '/spec/storage', 'allocatedGB'],
      [doc('MicroService', { port: 80, autoscaling: { min: 1, max: 2, targetCPU: 50 } }), '/spec/autoscaling', 'targetCPU'],
      [
        doc('MicroService', { port: 80, strategy: { type: 'canary', canary: { percentage: 10, bakeTme: '5m' } } }),
        '/spec/strategy/canary',
        'bakeTme',
      ],
      [doc('SQS', { deadLetter: { maxRecieveCount: 3 } }), '/spec/deadLetter', 'maxRecieveCount'],
      [doc('ALB', { targets: [{ component: 'api/api', path: ['/x'] }] }), '/spec/targets/0', 'path'],
      [doc('Compliance', { rules: [{ name: 'r', type: 'encryptionRequired', enforcment: 'advisory' }] }), '/spec/rules/0', 'enforcment'],
      [doc('InfraDefaults', { components: { Rds: { instanceClass: 'db.t4g.micro' } } }), '/spec/components', 'Rds'],
      [doc('MicroService', { port: 80, env: { A: { valueFrom: { component: 'a/b', ouput: 'x' } } } }), '/spec/env/A/valueFrom', 'ouput'],
    ];
    for (const [data, at, typo] of cases) {
      const errors = validate(data);
      expect(
        errors.some(
          (e) =>
            e.keyword === 'additionalProperties' &&
            e.instancePath === at &&
            (e.params as { additionalProperty: string }).additionalProperty === typo,
        ),
        `${typo}: ${describeErrors(errors).join('\n')}`,
      ).toBe(true);
    }
  });

  it('checks the wrong apiVersion and a missing metadata.service where one is required', () => {
    expect(validate({ ...doc('RDS', { engine: 'postgres' }), apiVersion: INFRA }).map((e) => e.keyword)).toContain('const');
    const noService = validate(doc('ServiceInfraDefaults', {}, { name: 'x' }));
    expect(noService.some((e) => e.keyword === 'required' && (e.params as { missingProperty: string }).missingProperty === 'service')).toBe(
      true,
    );
    const componentInfra = validate(doc('ComponentInfra', {}, { name: 'db' }));
    expect(
      componentInfra.some((e) => e.keyword === 'required' && (e.params as { missingProperty: string }).missingProperty === 'service'),
    ).toBe(true);
  });
});

describe('schemas: conventions of the policy checker', () => {
  const refTo = (s: Schema | undefined): string | undefined => s?.$ref ?? (s?.['allOf'] as Schema[] | undefined)?.[0]?.$ref;

  it('gives every component kind optional tags, dependsOn and region', () => {
    for (const kind of COMPONENT_KINDS) {
      const spec = specSchema(kind);
      expect(refTo(spec.properties?.['tags']), kind).toBe('defs.schema.json#/definitions/tags');
      expect(refTo(spec.properties?.['dependsOn']), kind).toBe('defs.schema.json#/definitions/dependsOn');
      expect(refTo(spec.properties?.['region']), kind).toBe('defs.schema.json#/definitions/region');
      for (const f of ['tags', 'dependsOn', 'region']) expect((spec['required'] as string[] | undefined) ?? [], kind).not.toContain(f);
    }
  });

  it('gives kinds that store data encryption {enabled, kmsKeyId?}, and only those', () => {
    for (const kind of COMPONENT_KINDS) {
      const enc = specSchema(kind).properties?.['encryption'];
      if (!STORES_DATA.includes(kind)) {
        expect(enc, kind).toBeUndefined();
        continue;
      }
      const resolved = enc?.$ref ? resolveRef(`${kind}.schema.json`, enc.$ref) : enc!;
      expect(resolved.required, kind).toEqual(['enabled']);
      expect(resolved.properties?.['enabled']?.type, kind).toBe('boolean');
      expect(resolved.properties?.['kmsKeyId']?.type, kind).toBe('string');
      const extra = Object.keys(resolved.properties ?? {}).filter((k) => k !== 'enabled' && k !== 'kmsKeyId');
      expect(extra, kind).toEqual(kind === 'S3' ? ['algorithm'] : []);
    }
    expect(describeErrors(validate(doc('S3', { encryption: { enabled: true, algorithm: 'aws:kms', kmsKeyId: 'alias/data' } })))).toEqual(
      [],
    );
    expect(validate(doc('S3', { encryption: 'aws:kms' })).map((e) => e.instancePath)).toContain('/spec/encryption');
    expect(validate(doc('RDS', { engine: 'postgres', encryption: { kmsKeyId: 'alias/data' } })).map((e) => e.keyword)).toContain(
      'required',
    );
  });

  it('gives stateful kinds deletionProtection, kinds with backups backup {retentionDays, window?}, and sizing its field', () => {
    for (const kind of COMPONENT_KINDS) {
      const props = specSchema(kind).properties ?? {};
      expect(refTo(props['deletionProtection']), kind).toBe(
        STATEFUL.includes(kind) ? 'defs.schema.json#/definitions/deletionProtection' : undefined,
      );
      expect(refTo(props['backup']), kind).toBe(WITH_BACKUPS.includes(kind) ? 'defs.schema.json#/definitions/backup' : undefined);
      for (const field of ['instanceClass', 'instanceType', 'nodeType']) {
        expect(field in props, `${kind}.${field}`).toBe(SIZING[kind] === field);
      }
    }
    expect(
      describeErrors(
        validate(doc('RDS', { engine: 'postgres', deletionProtection: true, backup: { retentionDays: 30, window: '01:00-02:00' } })),
      ),
    ).toEqual([]);
    expect(validate(doc('RDS', { engine: 'postgres', backup: { retentionDays: 36 } })).map((e) => e.keyword)).toContain('maximum');
    expect(validate(doc('RDS', { engine: 'postgres', backup: { window: '01:00-02:00' } })).map((e) => e.keyword)).toContain('required');
    expect(validate(doc('EFS', { backup: { retentionDays: 7, window: '25:00-26:00' } })).map((e) => e.keyword)).toContain('pattern');
  });

  it('keeps S3 publicAccess a boolean', () => {
    expect(describeErrors(validate(doc('S3', { publicAccess: false })))).toEqual([]);
    expect(validate(doc('S3', { publicAccess: 'no' })).map((e) => e.keyword)).toContain('type');
  });
});

describe('schemas: secrets are references', () => {
  const secretRef = { secretRef: { provider: 'aws-secretsmanager', key: 'shop/db-password' } };

  it('refuses a literal masterPassword and accepts a secretRef', () => {
    const literal = validate(doc('RDS', { engine: 'postgres', masterPassword: 'hunter22' }));
    expect(literal.some((e) => e.instancePath === '/spec/masterPassword')).toBe(true);
    expect(describeErrors(validate(doc('RDS', { engine: 'postgres', masterPassword: secretRef })))).toEqual([]);
    expect(validate(doc('DocumentDB', { masterPassword: 'hunter22' })).some((e) => e.instancePath === '/spec/masterPassword')).toBe(true);
  });

  it('refuses literal tokens and passwords elsewhere', () => {
    expect(validate(doc('ElastiCacheRedis', { authToken: 'abc' })).some((e) => e.instancePath === '/spec/authToken')).toBe(true);
    expect(validate(doc('Kafka', { authentication: { users: [{ name: 'app', password: 'pw' }] } })).length).toBeGreaterThan(0);
    expect(
      validate(doc('AWSMemoryDB', { acl: { users: [{ name: 'app', accessString: 'on ~* +@all', password: 'pw' }] } })).length,
    ).toBeGreaterThan(0);
    expect(describeErrors(validate(doc('ElastiCacheRedis', { authToken: secretRef })))).toEqual([]);
  });

  it('accepts a secretRef as an env value, and no other kind of object', () => {
    expect(describeErrors(validate(doc('Worker', { env: { TOKEN: secretRef, N: 3, ON: true } })))).toEqual([]);
    expect(validate(doc('Worker', { env: { TOKEN: { secret: 'x' } } })).length).toBeGreaterThan(0);
    expect(validate(doc('Worker', { env: { TOKEN: { secretRef: { provider: 'vault', key: 'x' } } } })).length).toBeGreaterThan(0);
  });
});

describe('schemas: policy rules', () => {
  const PARAMS: Record<string, Json> = {
    requiredTags: { tags: ['team'] },
    encryptionRequired: {},
    noPublicBuckets: {},
    allowedRegions: { regions: ['eu-west-1'] },
    allowedInstanceClasses: { classes: ['db.t4g.micro'] },
    minBackupRetention: { days: 7 },
    deletionProtection: {},
  };
  const compliance = (rule: Json): Json => doc('Compliance', { rules: [{ name: 'rule', ...rule }] });
  const security = (rule: Json): Json => doc('Security', { rules: [{ name: 'rule', ...rule }] });

  it.each(Object.entries(PARAMS))('%s with its parameters validates, in Compliance and in Security', (type, params) => {
    expect(describeErrors(validate(compliance({ type, ...params })))).toEqual([]);
    expect(
      describeErrors(validate(security({ type, ...params, enforcement: 'advisory', kinds: ['RDS'], environments: ['production'] }))),
    ).toEqual([]);
  });

  it.each(Object.entries(PARAMS).filter(([, p]) => Object.keys(p).length > 0))('%s without its parameter fails', (type, params) => {
    const param = Object.keys(params)[0]!;
    const errors = validate(compliance({ type }));
    expect(
      errors.some((e) => e.keyword === 'required' && (e.params as { missingProperty: string }).missingProperty === param),
      describeErrors(errors).join('\n'),
    ).toBe(true);
    expect(validate(security({ type })).some((e) => e.keyword === 'required')).toBe(true);
  });

  it('refuses a parameter of another type, an unknown type, enforcement or kind, and bad parameter values', () => {
    expect(
      validate(compliance({ type: 'encryptionRequired', days: 7 })).some(
        (e) => e.keyword === 'const' && e.instancePath === '/spec/rules/0/type',
      ),
    ).toBe(true);
    expect(validate(compliance({ type: 'requiredTags', tags: ['team'], regions: ['eu-west-1'] })).length).toBeGreaterThan(0);
    expect(validate(compliance({ type: 'requireTags', tags: ['team'] })).map((e) => e.keyword)).toContain('enum');
    expect(validate(compliance({ type: 'noPublicBuckets', enforcement: 'warn' })).map((e) => e.keyword)).toContain('enum');
    expect(validate(compliance({ type: 'noPublicBuckets', kinds: ['Bucket'] })).map((e) => e.keyword)).toContain('enum');
    expect(validate(compliance({ type: 'requiredTags', tags: [] })).map((e) => e.keyword)).toContain('minItems');
    expect(validate(compliance({ type: 'minBackupRetention', days: 1.5 })).map((e) => e.keyword)).toContain('type');
    expect(validate(compliance({ type: 'allowedRegions', regions: ['europe'] })).map((e) => e.keyword)).toContain('pattern');
    expect(validate(doc('Compliance', { rules: [{ type: 'noPublicBuckets' }] })).map((e) => e.keyword)).toContain('required');
    expect(validate(doc('Compliance', {})).map((e) => e.keyword)).toContain('required');
  });
});

describe('schemas: specific fields', () => {
  it('checks cron expressions of CronJob schedules', () => {
    for (const schedule of ['30 2 * * *', '*/5 * * * *', '0 12 ? * MON-FRI *', '@daily', 'rate(5 minutes)', 'rate(1 hour)']) {
      expect(describeErrors(validate(doc('CronJob', { schedule }))), schedule).toEqual([]);
    }
    for (const schedule of ['every day', '* * *', 'rate(0 minutes)', '@sometimes', '']) {
      expect(validate(doc('CronJob', { schedule })).length, schedule).toBeGreaterThan(0);
    }
  });

  it('ties canary and blue-green settings to their strategy type', () => {
    const ms = (strategy: Json): Json => doc('MicroService', { port: 80, strategy });
    expect(describeErrors(validate(ms({ type: 'canary', canary: { percentage: 10, bakeTime: '10m' } })))).toEqual([]);
    expect(
      describeErrors(validate(ms({ type: 'canary', canary: { steps: [{ percentage: 10, bakeTime: 300 }, { percentage: 50 }] } }))),
    ).toEqual([]);
    expect(describeErrors(validate(ms({ type: 'rolling', maxUnavailable: 0, maxSurge: '50%' })))).toEqual([]);
    expect(validate(ms({ type: 'rolling', canary: { percentage: 10 } })).length).toBeGreaterThan(0);
    expect(validate(ms({ canary: { percentage: 10 } })).length).toBeGreaterThan(0);
    expect(validate(ms({ type: 'canary', canary: { percentage: 10, steps: [{ percentage: 10 }] } })).length).toBeGreaterThan(0);
    expect(validate(ms({ type: 'canary', canary: { bakeTime: '10 minutes' } })).length).toBeGreaterThan(0);
    expect(validate(ms({ type: 'rolling', maxSurge: 'half' })).length).toBeGreaterThan(0);
    expect(validate(doc('MicroService', { port: 80, rollback: 'sometimes' })).length).toBeGreaterThan(0);
  });

  it('accepts ALB targets as <service>/<component>, valueFrom or objects, and CloudFront origins from valueFrom', () => {
    const valueFrom = { valueFrom: { component: 'api/api', output: 'targetGroupArn' } };
    expect(describeErrors(validate(doc('ALB', { targets: ['api/api', valueFrom, { component: 'api/api', paths: ['/api/*'] }] })))).toEqual(
      [],
    );
    expect(validate(doc('ALB', { targets: ['api'] })).length).toBeGreaterThan(0);
    const origin = { name: 'assets', source: { valueFrom: { component: 'data/assets', output: 'regionalDomainName' } } };
    expect(describeErrors(validate(doc('CloudFront', { origins: [origin], defaultBehavior: { origin: 'assets' } })))).toEqual([]);
  });

  it('requires what each variant needs: Lambda code, DynamoDB capacity, EBS size, SQS FIFO options, EventBridge rules', () => {
    expect(describeErrors(validate(doc('Lambda', { code: { image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/fn:1' } })))).toEqual([]);
    expect(validate(doc('Lambda', { code: { path: 'fn' } })).length).toBeGreaterThan(0);
    expect(validate(doc('Lambda', { runtime: 'nodejs20.x', handler: 'a.b', code: { path: 'fn', image: 'x' } })).length).toBeGreaterThan(0);
    expect(validate(doc('DynamoDB', { partitionKey: { name: 'pk' }, billingMode: 'provisioned' })).length).toBeGreaterThan(0);
    expect(
      describeErrors(
        validate(doc('DynamoDB', { partitionKey: { name: 'pk' }, billingMode: 'provisioned', capacity: { read: 5, write: 5 } })),
      ),
    ).toEqual([]);
    expect(validate(doc('EBS', {})).length).toBeGreaterThan(0);
    expect(describeErrors(validate(doc('EBS', { snapshotId: 'snap-0123abcd' })))).toEqual([]);
    expect(validate(doc('SQS', { contentBasedDeduplication: true })).length).toBeGreaterThan(0);
    expect(
      describeErrors(validate(doc('SQS', { fifo: true, contentBasedDeduplication: true, deadLetter: { maxReceiveCount: 3 } }))),
    ).toEqual([]);
    expect(validate(doc('EventBridge', { rules: [{ name: 'r', targets: [{ target: 'jobs/fn' }] }] })).length).toBeGreaterThan(0);
    expect(
      describeErrors(validate(doc('EventBridge', { rules: [{ name: 'r', schedule: 'rate(1 hour)', targets: [{ target: 'jobs/fn' }] }] }))),
    ).toEqual([]);
  });

  it('accepts variables, allowEnv and region in the Stack, and checks them', () => {
    const stack = (extra: Json): Json => doc('Stack', { environments: ['dev'], target: 'aws', ...extra });
    expect(
      describeErrors(
        validate(stack({ region: 'eu-west-1', variables: { tag: '1.0', n: 2, on: true }, allowEnv: ['GIT_SHA', 'CI_PIPELINE_ID'] })),
      ),
    ).toEqual([]);
    expect(validate(stack({ allowEnv: ['not-a-name'] })).map((e) => e.keyword)).toContain('pattern');
    expect(validate(stack({ allowEnv: ['A', 'A'] })).map((e) => e.keyword)).toContain('uniqueItems');
    expect(validate(stack({ region: 'Ireland' })).map((e) => e.keyword)).toContain('pattern');
    expect(validate(doc('RDS', { engine: 'postgres', region: 'eu-west' })).map((e) => e.keyword)).toContain('pattern');
  });
});

describe('formats (ajv-formats)', () => {
  it('checks the webhook URL and the e-mail addresses of Observability', async () => {
    const { loadSchemas: load, validateData: check } = await import('./validate.js');
    const doc = (notifications: object) => ({
      apiVersion: 'infra.deployer.io/v1',
      kind: 'Observability',
      metadata: { name: 'obs' },
      spec: { notifications },
    });
    expect(check(load(), doc({ webhook: { url: 'https://hooks.example.com/alerts' }, emails: ['oncall@example.com'] }))).toEqual([]);
    const bad = check(load(), doc({ emails: ['oncall at example'] }));
    expect(bad.map((f) => [f.pointer, f.rule])).toContainEqual(['/spec/notifications/emails/0', 'format']);
  });
});

/**
 * Secret-named fields of the schemas (secret-names.ts decides the names): each takes only a
 * secretRef, or says `"x-deployer-not-secret": true`, and discovery spares exactly the marked
 * fields: in documents of the kind that declares them, and in the partial specs of
 * InfraDefaults, ServiceInfraDefaults and ComponentInfra that merge into such components.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { problemsRaised } from '../../test/helpers/problems.js';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import { schemasDir } from '../package-info.js';
import { discover } from './index.js';
import { isSecretName } from '../model/secret-names.js';
import { NOT_SECRET_MARKER, MarkedFields } from './secret-schema.js';

afterAll(removeTestdirs);

type Schema = Record<string, unknown>;
const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const files = new Map(
  readdirSync(schemasDir)
    .filter((f) => f.endsWith('.schema.json'))
    .map((f) => [f, JSON.parse(readFileSync(path.join(schemasDir, f), 'utf8')) as Schema]),
);
const SECRET_REF = 'defs.schema.json#/definitions/secretRef';

/** Every property any schema declares (under `properties`, at any depth): `file#pointer`, its name and schema. */
function declaredProperties(): Array<{ where: string; name: string; schema: Schema; file: string }> {
  const out: Array<{ where: string; name: string; schema: Schema; file: string }> = [];
  const visit = (file: string, node: unknown, pointer: string): void => {
    if (Array.isArray(node)) return node.forEach((x, i) => visit(file, x, `${pointer}/${i}`));
    if (!isSchema(node)) return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'properties' && isSchema(v)) {
        for (const [name, sub] of Object.entries(v)) {
          if (isSchema(sub)) out.push({ where: `${file}#${pointer}/properties/${name}`, name, schema: sub, file });
          visit(file, sub, `${pointer}/properties/${name}`);
        }
      } else visit(file, v, `${pointer}/${k}`);
    }
  };
  for (const [file, schema] of files) visit(file, schema, '');
  return out;
}

/** Whether every value `schema` accepts is a secretRef: its `$ref` is secretRef, or all its alternatives are. */
function secretRefOnly(file: string, schema: Schema): boolean {
  const ref = schema['$ref'];
  if (typeof ref === 'string') return (ref.startsWith('#') ? `${file}${ref}` : ref) === SECRET_REF;
  const alternatives = [schema['oneOf'], schema['anyOf']].find(Array.isArray) as unknown[] | undefined;
  return alternatives !== undefined && alternatives.length > 0 && alternatives.every((s) => isSchema(s) && secretRefOnly(file, s));
}

describe('secret-named fields of the schemas', () => {
  const properties = declaredProperties();

  it('take only a secretRef or are marked x-deployer-not-secret (and only those are marked)', () => {
    // The reference's own fields (secretRef.key is the secret's name) are never read as values.
    const inSecretRef = (where: string): boolean => where.startsWith(`${SECRET_REF}/`);
    const unmarked = properties.filter(
      (p) => isSecretName(p.name) && !inSecretRef(p.where) && p.schema[NOT_SECRET_MARKER] !== true && !secretRefOnly(p.file, p.schema),
    );
    expect(unmarked.map((p) => p.where)).toEqual([]);
    const stray = properties.filter((p) => p.schema[NOT_SECRET_MARKER] === true && !isSecretName(p.name));
    expect(stray.map((p) => p.where)).toEqual([]);
  });

  it('are these: the secrets, by secretRef, and the marked names of keys and flags', () => {
    const named = properties.filter((p) => isSecretName(p.name) && !p.where.startsWith(`${SECRET_REF}/`));
    const show = (p: { where: string }): string => p.where.replace(/#.*\/properties\//, '#.../');
    expect(
      named
        .filter((p) => p.schema[NOT_SECRET_MARKER] === true)
        .map(show)
        .sort(),
    ).toEqual(
      [
        'APIGateway.schema.json#.../allowCredentials',
        'DynamoDB.schema.json#.../partitionKey',
        'DynamoDB.schema.json#.../partitionKey',
        'DynamoDB.schema.json#.../sortKey',
        'DynamoDB.schema.json#.../sortKey',
        'Lambda.schema.json#.../allowCredentials',
        'Lambda.schema.json#.../key',
        'Security.schema.json#.../kmsKeys',
        'Stack.schema.json#.../trustedKeys',
      ].sort(),
    );
    expect(
      named
        .filter((p) => secretRefOnly(p.file, p.schema))
        .map(show)
        .sort(),
    ).toEqual(
      [
        'AWSMemoryDB.schema.json#.../password',
        'DocumentDB.schema.json#.../masterPassword',
        'ElastiCacheRedis.schema.json#.../authToken',
        'Kafka.schema.json#.../password',
        'Observability.schema.json#.../signingSecret',
        'RDS.schema.json#.../masterPassword',
      ].sort(),
    );
  });
});

describe('MarkedFields: where a document has marked fields', () => {
  const fields = new MarkedFields();

  it("finds them along the kind's schema, in lists too, and not in maps of free names", () => {
    const table = {
      kind: 'DynamoDB',
      spec: {
        partitionKey: { name: 'pk' },
        sortKey: 'sk',
        globalSecondaryIndexes: [{ name: 'by-a', partitionKey: { name: 'a' } }],
        tags: { sortKey: 'x' },
      },
    };
    expect([...fields.pointers(table)]).toEqual(['/spec/partitionKey', '/spec/sortKey', '/spec/globalSecondaryIndexes/0/partitionKey']);
    const fn = { kind: 'Lambda', spec: { code: { s3: { bucket: 'b', key: 'builds/fn.zip' } }, env: { key: 'x' } } };
    expect([...fields.pointers(fn)]).toEqual(['/spec/code/s3/key']);
    expect([...fields.pointers({ kind: 'MicroService', spec: { env: { sortKey: 'x', key: 'y' } } })]).toEqual([]);
    expect([...fields.pointers({ kind: 'NoSuchKind', spec: { sortKey: 'x' } })]).toEqual([]);
  });

  it('finds them in partial specs: per kind in InfraDefaults and ServiceInfraDefaults, of any component kind in ComponentInfra', () => {
    const infra = {
      kind: 'InfraDefaults',
      spec: { components: { DynamoDB: { sortKey: 'sk' }, Lambda: { code: { s3: { key: 'k' } } }, MicroService: { sortKey: 'sk' } } },
    };
    expect([...fields.pointers(infra)]).toEqual(['/spec/components/DynamoDB/sortKey', '/spec/components/Lambda/code/s3/key']);
    expect([
      ...fields.pointers({ kind: 'ServiceInfraDefaults', spec: { components: { DynamoDB: { partitionKey: { name: 'pk' } } } } }),
    ]).toEqual(['/spec/components/DynamoDB/partitionKey']);
    expect([
      ...fields.pointers({ kind: 'ComponentInfra', spec: { code: { s3: { key: 'k' } }, sortKey: 'sk', env: { key: 'x' } } }),
    ]).toEqual(['/spec/code/s3/key', '/spec/sortKey']);
  });
});

describe('discovery spares the marked fields', () => {
  const STACK = 'apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: marked\nspec:\n  environments: [dev]\n';
  const SERVICE = 'apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: web\n';
  const FN =
    'apiVersion: components.deployer.io/v1\nkind: Lambda\nmetadata:\n  name: fn\nspec:\n  runtime: nodejs20.x\n  handler: index.handler\n  code:\n    s3: {bucket: builds, key: fn/latest.zip}\n';
  const load = (files: Record<string, string>): Promise<unknown> => {
    const dir = writeStackDir({ 'stack.yaml': STACK, 'services/web/service.yaml': SERVICE, ...files });
    return discover({ dir, displayBase: dir, environment: 'dev', cacheDir: false });
  };

  it('accepts a Lambda code.s3.key, also from a ComponentInfra and from InfraDefaults', async () => {
    await expect(load({ 'services/web/fn.yaml': FN })).resolves.toBeDefined();
    const bare = FN.replace('  code:\n    s3: {bucket: builds, key: fn/latest.zip}\n', '');
    const infra =
      'apiVersion: infra.deployer.io/v1\nkind: ComponentInfra\nmetadata:\n  name: fn\n  service: web\nspec:\n  code:\n    s3: {bucket: builds, key: fn/latest.zip}\n';
    await expect(load({ 'services/web/fn.yaml': bare, 'infra/fn.yaml': infra })).resolves.toBeDefined();
    const defaults =
      'apiVersion: infra.deployer.io/v1\nkind: InfraDefaults\nmetadata:\n  name: defaults\nspec:\n  components:\n    Lambda:\n      code:\n        s3: {bucket: builds, key: fn/latest.zip}\n';
    await expect(load({ 'services/web/fn.yaml': bare, 'infra/defaults.yaml': defaults })).resolves.toBeDefined();
  });

  it('still refuses the same name where no schema marks it', async () => {
    const api =
      'apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: api\nspec:\n  port: 8080\n  env:\n    key: fn/latest.zip\n';
    const problems = await problemsRaised(load({ 'services/web/api.yaml': api }));
    expect(problems.map((p) => p.slice(0, p.indexOf(']') + 1))).toEqual([
      `${path.join('services', 'web', 'api.yaml')}:8:5 MicroService/api /spec/env/key [secret:literal]`,
    ]);
  });
});

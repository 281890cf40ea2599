/**
 * The JSON Schemas in schemas/, compiled as discovery compiles them (loadSchemas): every kind
 * accepts a minimal document and refuses a misspelled field; the conventions the policy checker
 * relies on hold; policy rules need their parameters; secrets are only references. The
 * documents of examples/ are checked against them in examples.test.ts.
 */
import { describe, it, expect } from 'vitest';
import { describeErrors, schemas, validate } from '../../test/helpers/schemas.js';
import {
  COMPONENT_KINDS,
  CORE_KINDS,
  FREE_FORM,
  INFRA,
  INFRA_KINDS,
  type Json,
  MINIMAL,
  SIZING,
  STATEFUL,
  STORES_DATA,
  type Schema,
  WITH_BACKUPS,
  doc,
  groupOf,
  rawSchemas,
  resolveRef,
  schemaFiles,
  specSchema,
  typoOf,
} from '../../test/helpers/schema-kinds.js';

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

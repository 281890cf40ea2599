/**
 * The validators generated at build time (schema-code.ts) judge every document exactly as the
 * compiled schemas do, are what the build installed for the installed schemas, and are not used
 * once the schemas change after the build.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import { doc, MINIMAL, typoOf } from '../../test/helpers/schema-kinds.js';
import { schemasDir } from '../package-info.js';
import { fingerprintOf, generatedValidators, readSchemaSources, writeValidatorModules } from './schema-code.js';
import { generatedValidatorsDir, loadSchemas, validateData } from './validate.js';

afterAll(() => removeTestdirs());

/** Documents of every kind: the minimal one, one with a misspelled field, one whose spec is of the wrong type. */
function samplesOf(kinds: string[]): unknown[] {
  return kinds.flatMap((kind) => {
    const minimal = MINIMAL[kind];
    const valid = doc(kind, minimal?.spec, minimal?.metadata);
    const spec = (minimal?.spec ?? {}) as Record<string, unknown>;
    const typo = doc(kind, { ...spec, [typoOf(Object.keys(spec).concat('replicas', 'environments'))]: 1 }, minimal?.metadata);
    return [valid, typo, doc(kind, 'not a mapping', minimal?.metadata), { ...valid, metadata: { name: 42 } }];
  });
}

describe('generated validators', () => {
  it('find the same problems, with the same messages, as the compiled schemas', () => {
    const out = path.join(writeStackDir({}), 'validators');
    const index = writeValidatorModules(readSchemaSources(schemasDir), out);
    const generated = loadSchemas(schemasDir, out);
    const compiled = loadSchemas(schemasDir, null);
    expect(index.kinds).toEqual(compiled.kinds);
    const samples = samplesOf(compiled.kinds);
    let problems = 0;
    for (const sample of samples) {
      const expected = validateData(compiled, sample);
      problems += expected.length;
      expect(validateData(generated, sample)).toEqual(expected);
    }
    expect(problems).toBeGreaterThan(samples.length / 2); // the samples do break rules
  });

  it('are what the build installed for the installed schemas', () => {
    const index = JSON.parse(readFileSync(path.join(generatedValidatorsDir, 'index.json'), 'utf8')) as { fingerprint: string };
    expect(index.fingerprint).toBe(fingerprintOf(readSchemaSources(schemasDir)));
    expect(generatedValidators(generatedValidatorsDir, fingerprintOf(readSchemaSources(schemasDir)))).toBeTypeOf('function');
  });

  it('are not used once a schema changed after the build: the changed rule holds', () => {
    const copy = writeStackDir(Object.fromEntries([...readSchemaSources(schemasDir)].map(([k, text]) => [`${k}.schema.json`, text])));
    const out = path.join(copy, 'validators');
    writeValidatorModules(readSchemaSources(copy), out);
    const file = path.join(copy, 'S3.schema.json');
    const schema = JSON.parse(readFileSync(file, 'utf8')) as { required?: string[] };
    writeFileSync(file, JSON.stringify({ ...schema, required: [...(schema.required ?? []), 'status'] }));
    expect(generatedValidators(out, fingerprintOf(readSchemaSources(copy)))).toBeUndefined();
    const findings = validateData(loadSchemas(copy, out), doc('S3', {}));
    expect(findings.map((f) => f.message)).toContain('missing required field "status"');
  });
});

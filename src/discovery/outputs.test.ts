/**
 * Declared outputs (issue 11, "acting on the wrong thing"): every component kind's schema
 * declares its outputs (`x-deployer-outputs`, and `x-deployer-target-outputs` where a target
 * makes only some), and discovery refuses a `valueFrom` naming any other output — at the
 * `output` it wrote (component, overlay, defaults, or another document such as Security), with
 * a "did you mean" — instead of letting it fail in the middle of an apply.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { problemsRaised } from '../../test/helpers/problems.js';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import { COMPONENT_KINDS } from '../model/documents.js';
import { discover } from './index.js';
import { declaredOutputs } from './outputs.js';
import { loadSchemas } from './validate.js';

afterAll(removeTestdirs);

const schemas = loadSchemas();
const stack = (target: string): string =>
  `apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: tmp\nspec:\n  environments: [dev, prod]\n  target: ${target}\n`;
const service = (name: string): string => `apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: ${name}\n`;
const component = (kind: string, name: string, spec = ''): string =>
  `apiVersion: components.deployer.io/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\n${spec ? `spec:\n${spec}` : ''}`;
const api = (env: string): string =>
  component('MicroService', 'api', `  image: example/api:1\n  command: [node, server.mjs]\n  port: 8080\n  env:\n${env}`);
const web = (file: string): string => path.join('services', 'web', file);
const data = (file: string): string => path.join('services', 'data', file);

/** A stack with services web and data, data/db (RDS) and data/files (S3), plus `files`. */
function problemsOf(target: string, files: Record<string, string>, environment = 'dev'): Promise<string[]> {
  const dir = writeStackDir({
    'stack.yaml': stack(target),
    [web('service.yaml')]: service('web'),
    [data('service.yaml')]: service('data'),
    [data('db.yaml')]: component('RDS', 'db', '  engine: postgres\n'),
    [data('files.yaml')]: component('S3', 'files'),
    ...files,
  });
  return problemsRaised(discover({ dir, displayBase: dir, environment, cacheDir: false }));
}

const RDS_OUTPUTS = 'RDS outputs: address, port, endpoint, readerAddress, arn, id, databaseName';

describe("outputs: declared in every component kind's schema", () => {
  it('declares at least one output, each with a one-line description, for every component kind, and none for the other kinds', () => {
    for (const kind of COMPONENT_KINDS) {
      const outputs = schemas.schemaOf(kind)!['x-deployer-outputs'] as Record<string, unknown>;
      expect(Object.keys(outputs ?? {}).length, kind).toBeGreaterThan(0);
      for (const [name, description] of Object.entries(outputs)) {
        expect(name, kind).toMatch(/^[a-z][A-Za-z0-9]*$/);
        expect(typeof description === 'string' && description.length > 0 && !description.includes('\n'), `${kind}.${name}`).toBe(true);
      }
    }
    for (const kind of schemas.kinds.filter((k) => !(COMPONENT_KINDS as readonly string[]).includes(k))) {
      expect(schemas.schemaOf(kind)!['x-deployer-outputs'], kind).toBeUndefined();
      expect(schemas.schemaOf(kind)!['x-deployer-target-outputs'], kind).toBeUndefined();
    }
  });

  it('lists per target only targets that exist and outputs the kind declares', () => {
    for (const kind of COMPONENT_KINDS) {
      const d = declaredOutputs(schemas, kind);
      for (const [target, names] of Object.entries(d.byTarget)) {
        expect(['local', 'aws'], `${kind}: target ${target}`).toContain(target);
        for (const n of names!) expect(d.names, `${kind}: ${target} makes ${n}`).toContain(n);
      }
    }
  });
});

describe('outputs: a valueFrom must name a declared output', () => {
  it('refuses an undeclared output at its line and column, with a did-you-mean when one is close', async () => {
    const env =
      '    DB_HOST:\n      valueFrom: {component: data/db, output: adress}\n    DB_URL:\n      valueFrom:\n        component: data/db\n        output: connectionString\n';
    expect(await problemsOf('aws', { [web('api.yaml')]: api(env) })).toEqual([
      `${web('api.yaml')}:11:39 MicroService/api /spec/env/DB_HOST/valueFrom/output [reference] unknown output "adress" of data/db (RDS); did you mean "address"? ${RDS_OUTPUTS}`,
      `${web('api.yaml')}:15:9 MicroService/api /spec/env/DB_URL/valueFrom/output [reference] unknown output "connectionString" of data/db (RDS); ${RDS_OUTPUTS}`,
    ]);
  });

  it("refuses an output the stack's target does not make: a local S3 has no regionalDomainName, an aws MicroService no pid", async () => {
    const local = '    CDN_ORIGIN:\n      valueFrom: {component: data/files, output: regionalDomainName}\n';
    expect(await problemsOf('local', { [web('api.yaml')]: api(local) })).toEqual([
      `${web('api.yaml')}:11:42 MicroService/api /spec/env/CDN_ORIGIN/valueFrom/output [reference] the local target does not make the output "regionalDomainName" of S3 (data/files); it makes bucketName, path, url, arn`,
    ]);
    const worker = component(
      'Worker',
      'worker',
      '  image: example/worker:1\n  env:\n    API_PID:\n      valueFrom: {component: web/api, output: pid}\n',
    );
    expect(await problemsOf('aws', { [web('api.yaml')]: api('    A: b\n'), [web('worker.yaml')]: worker })).toEqual([
      `${web('worker.yaml')}:9:39 Worker/worker /spec/env/API_PID/valueFrom/output [reference] the aws target does not make the output "pid" of MicroService (web/api); it makes url, port, arn, name, targetGroupArn`,
    ]);
  });

  it('locates a wrong output where it was written: in an overlay, or in the defaults the component inherits it from', async () => {
    const overlay = path.join('environments', 'prod', 'services', 'web', 'api.yaml');
    const good = '    DB_HOST:\n      valueFrom: {component: data/db, output: address}\n';
    const files = {
      [web('api.yaml')]: api(good),
      [overlay]:
        'apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: api\nspec:\n  env:\n    DB_HOST:\n      valueFrom: {component: data/db, output: host}\n',
    };
    expect(await problemsOf('aws', files, 'prod')).toEqual([
      `${overlay}:8:39 MicroService/api /spec/env/DB_HOST/valueFrom/output [reference] unknown output "host" of data/db (RDS); ${RDS_OUTPUTS}`,
    ]);
    const defaults = path.join('infra', 'defaults.yaml');
    const infra =
      'apiVersion: infra.deployer.io/v1\nkind: InfraDefaults\nmetadata:\n  name: defaults\nspec:\n  components:\n    MicroService:\n      env:\n        DB_PORT:\n          valueFrom: {component: data/db, output: ports}\n';
    expect(await problemsOf('aws', { [web('api.yaml')]: api(good), [defaults]: infra })).toEqual([
      `${defaults}:10:43 MicroService/api /spec/env/DB_PORT/valueFrom/output [reference] unknown output "ports" of data/db (RDS); did you mean "port"? ${RDS_OUTPUTS}`,
    ]);
  });

  it('checks the references of documents that are not components too (Security IAM resources): unknown components and undeclared outputs', async () => {
    const security = path.join('infra', 'security.yaml');
    const doc = [
      'apiVersion: infra.deployer.io/v1',
      'kind: Security',
      'metadata:',
      '  name: security',
      'spec:',
      '  iam:',
      '    policies:',
      '      - name: files',
      '        statements:',
      '          - actions: [s3:GetObject]',
      '            resources:',
      '              - valueFrom: {component: data/files, output: id}',
      '              - valueFrom: {component: data/filez, output: arn}',
      '',
    ].join('\n');
    expect(await problemsOf('aws', { [web('api.yaml')]: api('    A: b\n'), [security]: doc })).toEqual([
      `${security}:12:52 Security/security /spec/iam/policies/0/statements/0/resources/0/valueFrom/output [reference] unknown output "id" of data/files (S3); S3 outputs: bucketName, path, url, arn, domainName, regionalDomainName`,
      `${security}:13:29 Security/security /spec/iam/policies/0/statements/0/resources/1/valueFrom/component [reference] unknown component "data/filez"; did you mean "data/files"?`,
    ]);
  });

  it('accepts every declared output the target makes', async () => {
    const env = ['address', 'port', 'endpoint', 'arn']
      .map((o) => `    DB_${o.toUpperCase()}:\n      valueFrom: {component: data/db, output: ${o}}\n`)
      .join('');
    const dir = writeStackDir({
      'stack.yaml': stack('aws'),
      [web('service.yaml')]: service('web'),
      [data('service.yaml')]: service('data'),
      [data('db.yaml')]: component('RDS', 'db', '  engine: postgres\n'),
      [web('api.yaml')]: api(env),
    });
    const desired = await discover({ dir, displayBase: dir, environment: 'dev', cacheDir: false });
    const written = desired.components.get('web/api')!.references.filter((r) => !r.path.startsWith('/_stack/'));
    expect(written.map((r) => r.output)).toEqual(['address', 'port', 'endpoint', 'arn']);
  });
});

/**
 * discover(): from a stack directory on disk to the DesiredStack of one environment.
 * The valid cases use the committed fixture test/fixtures/valid-multi/; error cases with
 * committed fixtures are in test/fixtures/invalid-*, the rest are written to temp dirs.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { problemsRaised } from '../../test/helpers/problems.js';
import { editFile, removeTestdirs, repoRoot, testdir, writeStackDir } from '../../test/helpers/testdir.js';
import { InvalidInputError, ValidationError } from '../errors.js';
import type { DesiredStack } from '../model/desired.js';
import { discover } from './index.js';

const VALID = path.join(repoRoot, 'test', 'fixtures', 'valid-multi');

afterAll(removeTestdirs);

function load(dir: string, environment?: string): Promise<DesiredStack> {
  return discover({ dir, displayBase: dir, ...(environment === undefined ? {} : { environment }) });
}

/** The problems of the ValidationError that discovering `dir` raises, as one-line strings. */
function problemsOf(dir: string, environment?: string): Promise<string[]> {
  return problemsRaised(load(dir, environment));
}

describe('discover: a valid multi-service stack', () => {
  it('finds every component of every service, named <service>/<name>', async () => {
    const stack = await load(VALID, 'dev');
    expect(stack.name).toBe('shop');
    expect(stack.environment).toBe('dev');
    expect(stack.environments).toEqual(['dev', 'staging']);
    expect(stack.target).toBe('local');
    expect(stack.lockLevel).toBe('service');
    expect(stack.dir).toBe(VALID);
    expect([...stack.components.keys()].sort()).toEqual(['auth/tokens', 'data/backups', 'data/media', 'web/api', 'web/frontend']);
    expect([...stack.services.keys()].sort()).toEqual(['auth', 'data', 'web']);
    expect(stack.services.get('web')).toMatchObject({ name: 'web', version: '1.4.0' });
  });

  it('reads every document of a multi-document file, each with its own position', async () => {
    const stack = await load(VALID, 'dev');
    expect(stack.components.get('data/media')).toMatchObject({
      kind: 'S3',
      service: 'data',
      name: 'media',
      spec: { versioning: true, tags: { team: 'storage' } },
      source: { display: path.join('services', 'data', 'buckets.yaml'), docIndex: 0 },
    });
    expect(stack.components.get('data/backups')).toMatchObject({
      kind: 'S3',
      spec: { encryption: { enabled: true, algorithm: 'aws:kms' } },
      source: { display: path.join('services', 'data', 'buckets.yaml'), docIndex: 1 },
    });
    // Two Service documents in one file as well.
    expect(stack.services.get('auth')?.source).toMatchObject({ display: path.join('services', 'data', 'service.yaml'), docIndex: 1 });
  });

  it('takes the service from the services/<service>/ folder, or from metadata.service', async () => {
    const stack = await load(VALID, 'dev');
    const api = stack.components.get('web/api')!;
    expect(api.service).toBe('web');
    expect(api.baseDir).toBe(path.join(VALID, 'services', 'web'));
    const tokens = stack.components.get('auth/tokens')!;
    expect(tokens.service).toBe('auth');
    expect(tokens.baseDir).toBe(path.join(VALID, 'shared'));
  });

  it('resolves dependsOn: own entries, the Service-level entry expanded to every component of that service, and valueFrom', async () => {
    const stack = await load(VALID, 'dev');
    const deps = Object.fromEntries([...stack.components.values()].map((c) => [c.id, c.dependsOn]));
    expect(deps).toEqual({
      // own [auth/tokens] + Service web's [data] + valueFrom data/media
      'web/api': ['auth/tokens', 'data/backups', 'data/media'],
      // own [web/api] + Service web's [data]
      'web/frontend': ['data/backups', 'data/media', 'web/api'],
      'data/media': [],
      'data/backups': [],
      'auth/tokens': [],
    });
  });

  it('records valueFrom references with the JSON pointer of the value that uses them', async () => {
    const stack = await load(VALID, 'dev');
    expect(stack.components.get('web/api')!.references).toEqual([{ path: '/env/MEDIA_DIR', component: 'data/media', output: 'path' }]);
    expect(stack.components.get('web/frontend')!.references).toEqual([]);
  });

  it('picks the only environment when the stack declares one, and asks for -e when it declares several', async () => {
    const dir = testdir('valid-multi', { 'environments: [dev, staging]': 'environments: [dev]' });
    expect((await load(dir)).environment).toBe('dev');
    const err = await load(VALID).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).message).toBe('choose an environment with -e/--environment');
    expect((err as InvalidInputError).details).toEqual(['environments of this stack: dev, staging']);
  });

  it('rejects an environment the stack does not declare with InvalidInputError listing the known ones', async () => {
    const err = await load(VALID, 'prod').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).code).toBe('INVALID_INPUT');
    expect((err as InvalidInputError).message).toBe('unknown environment "prod"');
    expect((err as InvalidInputError).details).toEqual(['environments of this stack: dev, staging']);
  });
});

describe('discover: environment overlays', () => {
  it('leaves the base untouched in an environment without overlays', async () => {
    const dev = await load(VALID, 'dev');
    expect(dev.components.get('web/api')!.spec).toEqual({
      command: ['node', 'server.mjs'],
      port: 8080,
      env: { GREETING: 'hello', FEATURE_FLAG: 'on', MEDIA_DIR: { valueFrom: { component: 'data/media', output: 'path' } } },
      healthCheck: { path: '/healthz', interval: 5 },
      dependsOn: ['auth/tokens'],
    });
  });

  it('deep-merges maps, replaces lists and removes keys marked $patch: delete', async () => {
    const staging = await load(VALID, 'staging');
    expect(staging.components.get('web/api')!.spec).toEqual({
      command: ['node', 'server.mjs', '--staging'], // list replaced, not appended
      port: 9090, // scalar replaced
      env: {
        GREETING: 'hello', // kept from the base
        MEDIA_DIR: { valueFrom: { component: 'data/media', output: 'path' } },
        LOG_LEVEL: 'debug', // added
        // FEATURE_FLAG removed by $patch: delete
      },
      healthCheck: { path: '/healthz', interval: 10 }, // nested map merged
      dependsOn: ['auth/tokens'],
    });
    expect(staging.components.get('web/api')!.references).toEqual([{ path: '/env/MEDIA_DIR', component: 'data/media', output: 'path' }]);
  });

  it('changes the specHash of the overlaid component only', async () => {
    const dev = await load(VALID, 'dev');
    const staging = await load(VALID, 'staging');
    for (const id of dev.components.keys()) {
      const same = dev.components.get(id)!.specHash === staging.components.get(id)!.specHash;
      expect([id, same]).toEqual([id, id !== 'web/api']);
    }
  });

  it('overlays the Stack and Service documents too', async () => {
    // The aws target makes no S3 `path`: reference the bucket's url, which both targets make.
    const dir = testdir('valid-multi', { 'output: path': 'output: url' });
    const env = path.join(dir, 'environments', 'staging');
    writeFileSync(
      path.join(env, 'stack.yaml'),
      'apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: shop\nspec:\n  target: aws\n  lock:\n    level: component\n',
    );
    writeFileSync(
      path.join(env, 'services', 'web', 'service.yaml'),
      'apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  dependsOn: [data/media]\n',
    );
    const staging = await load(dir, 'staging');
    expect([staging.target, staging.lockLevel]).toEqual(['aws', 'component']);
    expect([...new Set([...staging.components.values()].map((c) => c.target))]).toEqual(['aws']);
    // On aws, a MicroService runs on the stack's cluster, which stack/platform makes.
    expect(staging.components.get('web/frontend')!.dependsOn).toEqual(['data/media', 'stack/platform', 'web/api']);
    const dev = await load(dir, 'dev');
    expect([dev.target, dev.lockLevel]).toEqual(['local', 'service']);
  });

  it('locates a problem introduced by an overlay in the overlay file', async () => {
    const dir = testdir('valid-multi');
    const overlay = path.join(dir, 'environments', 'staging', 'services', 'web', 'frontend.yaml');
    writeFileSync(overlay, 'apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: frontend\nspec:\n  port: high\n');
    expect(await problemsOf(dir, 'staging')).toEqual([
      `${path.join('environments', 'staging', 'services', 'web', 'frontend.yaml')}:6:3 MicroService/frontend /spec/port [oneOf] must be an integer from 1 to 65535, or "auto"`,
    ]);
    // The same stack is valid for dev, which has no such overlay.
    expect((await load(dir, 'dev')).components.get('web/frontend')!.spec['port']).toBe(3000);
  });
});

describe('discover: specHash', () => {
  it('changes when the spec changes, for that component only', async () => {
    const before = await load(VALID, 'dev');
    const dir = testdir('valid-multi');
    editFile(path.join(dir, 'services', 'web', 'frontend.yaml'), 'port: 3000', 'port: 3001');
    const after = await load(dir, 'dev');
    for (const id of before.components.keys()) {
      const changed = before.components.get(id)!.specHash !== after.components.get(id)!.specHash;
      expect([id, changed]).toEqual([id, id === 'web/frontend']);
    }
  });

  it('does not change when only dependsOn changes (component or Service level)', async () => {
    const before = await load(VALID, 'dev');
    const dir = testdir('valid-multi');
    editFile(path.join(dir, 'services', 'web', 'frontend.yaml'), 'dependsOn: [web/api]', 'dependsOn: [web/api, auth/tokens]');
    editFile(path.join(dir, 'services', 'web', 'service.yaml'), 'dependsOn: [data]', 'dependsOn: [data/media]');
    const after = await load(dir, 'dev');
    expect(after.components.get('web/frontend')!.dependsOn).toEqual(['auth/tokens', 'data/media', 'web/api']);
    expect(after.components.get('web/api')!.dependsOn).toEqual(['auth/tokens', 'data/media']);
    for (const [id, c] of before.components) expect([id, after.components.get(id)!.specHash]).toEqual([id, c.specHash]);
  });

  it('does not depend on key order or formatting of the YAML', async () => {
    const before = await load(VALID, 'dev');
    const dir = testdir('valid-multi');
    writeFileSync(
      path.join(dir, 'services', 'web', 'frontend.yaml'),
      '# reformatted\nkind: MicroService\napiVersion: components.deployer.io/v1\nmetadata: {name: frontend}\nspec:\n  dependsOn:\n    - web/api\n  port: 3000\n  command:\n    - node\n    - frontend.mjs\n',
    );
    const after = await load(dir, 'dev');
    expect(after.components.get('web/frontend')!.specHash).toBe(before.components.get('web/frontend')!.specHash);
  });
});

describe('discover: invalid stacks from committed fixtures', () => {
  it('reports every schema problem at once, sorted by file then line, with did-you-mean hints', async () => {
    const dir = path.join(repoRoot, 'test', 'fixtures', 'invalid-schema');
    const api = path.join('services', 'web', 'api.yaml');
    const storage = path.join('services', 'web', 'storage.yaml');
    expect(await problemsOf(dir)).toEqual([
      `${api}:7:3 MicroService/api /spec/port [oneOf] must be an integer from 1 to 65535, or "auto"`,
      `${api}:8:3 MicroService/api /spec/replica [additionalProperties] unknown field "replica"; did you mean "replicas"?`,
      `${api}:10:5 MicroService/api /spec/healthCheck/path [pattern] must be a path starting with /, such as /healthz; it answers 2xx when healthy.`,
      `${storage}:3:1 S4/files /kind [kind] unknown kind "S4"; did you mean "S3"?`,
      `${storage}:12:3 S3/logs /spec/versoning [additionalProperties] unknown field "versoning"; did you mean "versioning"?`,
      `stack.yaml:7:3 Stack/broken /spec/target [enum] must be one of "local", "aws"`,
    ]);
  });

  it('carries the problems in the error message details, one line each', async () => {
    const dir = path.join(repoRoot, 'test', 'fixtures', 'invalid-schema');
    const err = (await load(dir).catch((e: unknown) => e)) as ValidationError;
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.message).toBe('configuration is invalid: 6 problems');
    expect(err.details[0]).toBe(
      `${path.join('services', 'web', 'api.yaml')}:7:3  MicroService/api  /spec/port  must be an integer from 1 to 65535, or "auto" (oneOf)`,
    );
  });

  it("reports unknown components in dependsOn and valueFrom, an output the component's kind does not declare, and a component whose service has no Service document", async () => {
    const dir = path.join(repoRoot, 'test', 'fixtures', 'invalid-references');
    const api = path.join('services', 'web', 'api.yaml');
    expect(await problemsOf(dir)).toEqual([
      `${path.join('services', 'jobs', 'reports.yaml')}:4:1 S3/reports /metadata/service [service] service "jobs" has no Service document`,
      // Only the unknown component, not also its output.
      `${api}:10:9 MicroService/api /spec/env/FILES_DIR/valueFrom/component [reference] unknown component "data/fils"; did you mean "data/files"?`,
      `${api}:13:42 MicroService/api /spec/env/FILES_BUCKET/valueFrom/output [reference] unknown output "bucket_name" of data/files (S3); did you mean "bucketName"? S3 outputs: bucketName, path, url, arn, domainName, regionalDomainName`,
      `${api}:14:15 MicroService/api /spec/dependsOn/0 [reference] unknown component "data/file"; did you mean "data/files"?`,
      `${api}:14:26 MicroService/api /spec/dependsOn/1 [reference] unknown component "web/worker"`,
      `${path.join('services', 'web', 'service.yaml')}:6:21 Service/web /spec/dependsOn/1 [reference] unknown service "billing"`,
    ]);
  });
});

const STACK = 'apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: tmp\nspec:\n  environments: [dev, prod]\n';
const SERVICE = 'apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: web\n';
const API = 'apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: api\nspec:\n  port: 8080\n';

/** Writes a stack directory (path -> content) into a new temp dir. */
const stackDir = (files: Record<string, string | Buffer>): string => writeStackDir(files);

describe('discover: invalid stacks written by the test', () => {
  const web = (file: string): string => path.join('services', 'web', file);

  it('reads .yml files too, and skips node_modules and hidden directories', async () => {
    const dir = stackDir({
      'stack.yml': STACK,
      [web('service.yml')]: SERVICE,
      [web('api.yml')]: API,
      [path.join('node_modules', 'pkg', 'broken.yaml')]: 'kind: [\n',
      [path.join('.cache', 'broken.yaml')]: 'kind: [\n',
      [web('notes.txt')]: 'kind: [\n',
    });
    expect([...(await load(dir, 'dev')).components.keys()]).toEqual(['web/api']);
  });

  it('reports a YAML syntax error at its line and column', async () => {
    const dir = stackDir({ 'stack.yaml': STACK, [web('service.yaml')]: SERVICE, [web('api.yaml')]: API + '  image: nginx: latest\n' });
    expect(await problemsOf(dir, 'dev')).toEqual([
      `${web('api.yaml')}:7:10 - / [yaml:BLOCK_AS_IMPLICIT_KEY] Nested mappings are not allowed in compact mappings`,
    ]);
  });

  it('reports a duplicate key at the second occurrence', async () => {
    const dir = stackDir({ 'stack.yaml': STACK, [web('service.yaml')]: SERVICE, [web('api.yaml')]: API + '  cpu: 256\n  port: 8081\n' });
    expect(await problemsOf(dir, 'dev')).toEqual([`${web('api.yaml')}:8:3 - / [yaml:DUPLICATE_KEY] Map keys must be unique`]);
  });

  it('reports a document defined twice and names where it was first defined', async () => {
    const bucket = 'apiVersion: components.deployer.io/v1\nkind: S3\nmetadata:\n  name: files\n';
    const dir = stackDir({
      'stack.yaml': STACK,
      [web('service.yaml')]: SERVICE,
      [web('api.yaml')]: API,
      [web('more.yaml')]: `# more\n${bucket}---\n${API}`,
    });
    expect(await problemsOf(dir, 'dev')).toEqual([
      `${web('more.yaml')}:10:3 MicroService/api /metadata/name [unique] duplicate component web/api: already defined at ${web('api.yaml')}:1:1 as MicroService/api; a component is <service>/<name> whatever its kind, and only an overlay under environments/<env>/ changes a document`,
    ]);
  });

  it('reports an overlay for a document that no base file defines', async () => {
    const overlay = path.join('environments', 'prod', 'services', 'web', 'worker.yaml');
    const dir = stackDir({
      'stack.yaml': STACK,
      [web('service.yaml')]: SERVICE,
      [web('api.yaml')]: API,
      [overlay]: API.replace('name: api', 'name: worker'),
    });
    expect(await problemsOf(dir, 'prod')).toEqual([
      `${overlay}:1:1 MicroService/worker / [overlay] overlay for MicroService/worker, which no base document defines`,
    ]);
    // Overlays of other environments are not read.
    expect([...(await load(dir, 'dev')).components.keys()]).toEqual(['web/api']);
  });

  it('reports a directory without a Stack document', async () => {
    const dir = stackDir({ [web('service.yaml')]: SERVICE, [web('api.yaml')]: API });
    expect(await problemsOf(dir)).toEqual([`${dir}:1:1 - / [stack] no Stack document found (kind: Stack, usually in stack.yaml)`]);
  });

  it('rejects a binary file instead of parsing it', async () => {
    const dir = stackDir({
      'stack.yaml': STACK,
      [web('service.yaml')]: SERVICE,
      [web('blob.yaml')]: Buffer.from([0x6b, 0x3a, 0x20, 0x00, 0xff, 0x01]),
    });
    expect(await problemsOf(dir, 'dev')).toEqual([`${web('blob.yaml')}:1:1 - / [encoding] binary file (contains NUL bytes), not YAML`]);
  });

  it('fails fast on a YAML alias bomb (billion laughs) instead of expanding it', { timeout: 10_000 }, async () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const dir = stackDir({ 'stack.yaml': STACK, [web('service.yaml')]: SERVICE, [web('lol.yaml')]: levels.join('\n') + '\n' });
    expect(await problemsOf(dir, 'dev')).toEqual([
      `${web('lol.yaml')}:1:1 - / [yaml] Excessive alias count indicates a resource exhaustion attack`,
    ]);
  });

  it('reports documents that are not mappings, each in its own file', async () => {
    const dir = stackDir({
      'stack.yaml': STACK,
      [web('service.yaml')]: SERVICE,
      [web('list.yaml')]: '- a\n- b\n',
      [web('text.yaml')]: 'just text\n',
    });
    const notMapping = '- / [document] a document must be a mapping with apiVersion, kind, metadata and spec';
    expect(await problemsOf(dir, 'dev')).toEqual([`${web('list.yaml')}:1:1 ${notMapping}`, `${web('text.yaml')}:1:1 ${notMapping}`]);
  });

  it('reports a Stack whose environments are not a list as a schema problem, not as an unknown environment', async () => {
    const dir = stackDir({ 'stack.yaml': STACK.replace('[dev, prod]', 'dev') });
    expect(await problemsOf(dir, 'dev')).toEqual(['stack.yaml:6:3 Stack/tmp /spec/environments [type] must be array']);
  });

  it('reports problems of several kinds and files together, sorted by file then line', async () => {
    const dir = stackDir({
      'stack.yaml': STACK + '  colour: blue\n',
      [web('service.yaml')]: SERVICE,
      [web('api.yaml')]: API + '  replicas: 0\n',
      [web('b.yaml')]: 'kind: [\n',
    });
    expect(await problemsOf(dir, 'dev')).toEqual([
      `${web('api.yaml')}:7:3 MicroService/api /spec/replicas [minimum] must be >= 1`,
      `${web('b.yaml')}:2:1 - / [yaml:BAD_INDENT] Flow sequence in block collection must be sufficiently indented and end with a ]`,
      'stack.yaml:7:3 Stack/tmp /spec/colour [additionalProperties] unknown field "colour"; expected one of description, environments, target, region, lock, drift, rollback, circuitBreaker, regions, regionRollout, local, pipeline, variables, allowEnv',
    ]);
  });

  it('reports a Stack policy that does not parse (a circuit breaker recovery timeout) with the other problems, where it is written', async () => {
    const dir = stackDir({
      'stack.yaml': STACK + '  circuitBreaker:\n    recoveryTimeout: 5 minutes\n',
      [web('service.yaml')]: SERVICE,
      [web('api.yaml')]: API + '  replicas: 0\n',
    });
    const problems = await problemsOf(dir, 'dev');
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/api\.yaml:7:3 MicroService\/api \/spec\/replicas \[minimum\]/);
    expect(problems[1]).toMatch(/^stack\.yaml:8:\d+ Stack\/tmp \/spec\/circuitBreaker\/recoveryTimeout /);
  });
});

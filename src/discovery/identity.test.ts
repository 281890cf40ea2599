/**
 * A component's identity is `<service>/<metadata.name>`, whatever its kind (issue 11, "acting
 * on the wrong thing"): two base documents naming the same component are an error naming both
 * places, however the service is given (folder or metadata.service) and wherever the documents
 * are (two files, one file with `---`); an overlay cannot change a component's kind; and
 * buildComponents refuses to overwrite a component (a bug if it ever had to).
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { problemsRaised } from '../../test/helpers/problems.js';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import { InternalError } from '../errors.js';
import { buildComponents, type StackDoc } from './components.js';
import { discover } from './index.js';
import type { SourceDoc } from './read-documents.js';
import { loadSchemas } from './validate.js';

afterAll(removeTestdirs);

const STACK = 'apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: tmp\nspec:\n  environments: [dev, prod]\n';
const SERVICE = 'apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: web\n';
const API =
  'apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: api\nspec:\n  port: 8080\n  command: [node, server.mjs]\n';
const BUCKET_API = 'apiVersion: components.deployer.io/v1\nkind: S3\nmetadata:\n  name: api\n';
const web = (file: string): string => path.join('services', 'web', file);

function problemsOf(files: Record<string, string>, environment = 'dev'): Promise<string[]> {
  const dir = writeStackDir({ 'stack.yaml': STACK, [web('service.yaml')]: SERVICE, ...files });
  return problemsRaised(discover({ dir, displayBase: dir, environment, cacheDir: false }));
}

const duplicate = (first: string, kind: string): string =>
  `duplicate component web/api: already defined at ${first} as ${kind}/api; a component is <service>/<name> whatever its kind, and only an overlay under environments/<env>/ changes a document`;

describe('component identity: <service>/<name> whatever the kind', () => {
  it('refuses a second base document of another kind with the same service and name, in another file', async () => {
    expect(await problemsOf({ [web('api.yaml')]: API, [web('bucket.yaml')]: BUCKET_API })).toEqual([
      `${web('bucket.yaml')}:4:3 S3/api /metadata/name [unique] ${duplicate(`${web('api.yaml')}:1:1`, 'MicroService')}`,
    ]);
  });

  it('refuses the same id given by metadata.service in a file outside services/<svc>/', async () => {
    const shared = path.join('shared', 'api-bucket.yaml');
    expect(
      await problemsOf({ [web('api.yaml')]: API, [shared]: BUCKET_API.replace('name: api\n', 'name: api\n  service: web\n') }),
    ).toEqual([`${shared}:4:3 S3/api /metadata/name [unique] ${duplicate(`${web('api.yaml')}:1:1`, 'MicroService')}`]);
  });

  it('refuses two documents of one file (---) naming the same component', async () => {
    expect(await problemsOf({ [web('api.yaml')]: `${API}---\n${BUCKET_API}` })).toEqual([
      `${web('api.yaml')}:12:3 S3/api /metadata/name [unique] ${duplicate(`${web('api.yaml')}:1:1`, 'MicroService')}`,
    ]);
  });

  it('refuses an overlay that names an existing component with another kind, and says an overlay cannot change the kind', async () => {
    const overlay = path.join('environments', 'prod', 'services', 'web', 'api.yaml');
    expect(await problemsOf({ [web('api.yaml')]: API, [overlay]: BUCKET_API }, 'prod')).toEqual([
      `${overlay}:2:1 S3/api /kind [overlay] an overlay cannot change a document's kind: web/api is defined at ${web('api.yaml')}:1:1 as MicroService/api, this overlay says S3`,
    ]);
  });

  it('keeps components of the same name in different services apart, and a ComponentInfra beside the component it configures', async () => {
    const data = path.join('services', 'data');
    const infra = 'apiVersion: infra.deployer.io/v1\nkind: ComponentInfra\nmetadata:\n  name: api\n  service: web\nspec:\n  replicas: 2\n';
    const dir = writeStackDir({
      'stack.yaml': STACK,
      [web('service.yaml')]: SERVICE,
      [web('api.yaml')]: API,
      [path.join(data, 'service.yaml')]: SERVICE.replace('name: web', 'name: data'),
      [path.join(data, 'api.yaml')]: BUCKET_API,
      [path.join('infra', 'api.yaml')]: infra,
    });
    const stack = await discover({ dir, displayBase: dir, environment: 'dev', cacheDir: false });
    expect([...stack.components.values()].map((c) => [c.id, c.kind]).sort()).toEqual([
      ['data/api', 'S3'],
      ['web/api', 'MicroService'],
    ]);
    expect(stack.components.get('web/api')!.spec['replicas']).toBe(2);
  });
});

describe('buildComponents: defence in depth', () => {
  const source = (file: string, data: unknown): SourceDoc => ({ file, display: file, docIndex: 0, data });
  const stackDoc = (file: string, data: unknown, service?: string): StackDoc => ({
    key: file,
    sources: [source(file, data)],
    data,
    service,
  });

  it('throws an InternalError instead of letting a second document overwrite a component', () => {
    const stack = source('stack.yaml', {
      apiVersion: 'core.deployer.io/v1',
      kind: 'Stack',
      metadata: { name: 'tmp' },
      spec: { environments: ['dev'] },
    });
    const docs = [
      stackDoc('service.yaml', { apiVersion: 'core.deployer.io/v1', kind: 'Service', metadata: { name: 'web' } }),
      stackDoc(
        'api.yaml',
        { apiVersion: 'components.deployer.io/v1', kind: 'MicroService', metadata: { name: 'api' }, spec: { port: 8080 } },
        'web',
      ),
      stackDoc('bucket.yaml', { apiVersion: 'components.deployer.io/v1', kind: 'S3', metadata: { name: 'api' } }, 'web'),
    ];
    const build = (): unknown =>
      buildComponents({ docs, stack, schemas: loadSchemas(), environment: 'dev', target: 'local', stackRegion: undefined, dir: '/tmp' });
    expect(build).toThrow(InternalError);
    expect(build).toThrow(/web\/api.*api\.yaml.*bucket\.yaml/);
  });
});

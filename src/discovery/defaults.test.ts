/**
 * Infrastructure defaults through discover(): InfraDefaults < ServiceInfraDefaults <
 * ComponentInfra < the component's own spec (maps merge, lists replace), the specHash
 * following a default, and problems located in the file that wrote the faulty value.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { problemsRaised } from '../../test/helpers/problems.js';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import type { DesiredStack } from '../model/desired.js';
import { DefaultsIndex, effectiveSpec } from './defaults.js';
import { discover } from './index.js';

afterAll(removeTestdirs);

const stackDir = (files: Record<string, string>): string => writeStackDir(files);

function load(dir: string): Promise<DesiredStack> {
  return discover({ dir, displayBase: dir, environment: 'dev' });
}

function problemsOf(dir: string): Promise<string[]> {
  return problemsRaised(load(dir));
}

const STACK = 'apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: layers\nspec:\n  environments: [dev]\n';
const service = (name: string): string => `apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: ${name}\n`;
const micro = (name: string, specLines: string): string =>
  `apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: ${name}\nspec:\n${specLines}`;

const INFRA = `apiVersion: infra.deployer.io/v1
kind: InfraDefaults
metadata:
  name: defaults
spec:
  tags:
    team: platform
    cost-center: shared
  components:
    MicroService:
      replicas: 1
      cpu: 256
      memory: 512
      stopTimeout: 10
      command: [node, server.mjs]
      tags:
        layer: infra
`;
const SERVICE_DEFAULTS = `apiVersion: infra.deployer.io/v1
kind: ServiceInfraDefaults
metadata:
  name: web-defaults
  service: web
spec:
  tags:
    team: web
  components:
    MicroService:
      replicas: 2
      cpu: 512
      memory: 1024
`;
const COMPONENT_INFRA = `apiVersion: infra.deployer.io/v1
kind: ComponentInfra
metadata:
  name: api
  service: web
spec:
  replicas: 3
  cpu: 1024
  tags:
    owner: alice
`;
const API = micro('api', '  port: 8080\n  replicas: 4\n  command: [node, api.mjs, --fast]\n  tags:\n    cost-center: api\n');

const FILES: Record<string, string> = {
  'stack.yaml': STACK,
  'infra/defaults.yaml': INFRA,
  'infra/components.yaml': COMPONENT_INFRA,
  'services/web/service.yaml': service('web'),
  'services/web/defaults.yaml': SERVICE_DEFAULTS,
  'services/web/api.yaml': API,
  'services/web/other.yaml': micro('other', '  port: 8081\n'),
  'services/admin/service.yaml': service('admin'),
  'services/admin/console.yaml': micro('console', '  port: 8082\n'),
};

const edit = (files: Record<string, string>, file: string, from: string, to: string): Record<string, string> => {
  expect(files[file]).toContain(from);
  return { ...files, [file]: files[file]!.replace(from, to) };
};

describe('defaults: precedence', () => {
  it('gives each component InfraDefaults < ServiceInfraDefaults < ComponentInfra < its own spec; maps merge, lists replace', async () => {
    const stack = await load(stackDir(FILES));
    expect(stack.components.get('web/api')!.spec).toEqual({
      port: 8080,
      replicas: 4, // own, over ComponentInfra's 3
      cpu: 1024, // ComponentInfra, over ServiceInfraDefaults' 512
      memory: 1024, // ServiceInfraDefaults, over InfraDefaults' 512
      stopTimeout: 10, // InfraDefaults
      command: ['node', 'api.mjs', '--fast'], // own list replaces the default list
      tags: { team: 'web', 'cost-center': 'api', layer: 'infra', owner: 'alice' },
    });
    expect(stack.components.get('web/other')!.spec).toEqual({
      port: 8081,
      replicas: 2,
      cpu: 512,
      memory: 1024,
      stopTimeout: 10,
      command: ['node', 'server.mjs'],
      tags: { team: 'web', 'cost-center': 'shared', layer: 'infra' },
    });
    expect(stack.components.get('admin/console')!.spec).toEqual({
      port: 8082,
      replicas: 1,
      cpu: 256,
      memory: 512,
      stopTimeout: 10,
      command: ['node', 'server.mjs'],
      tags: { team: 'platform', 'cost-center': 'shared', layer: 'infra' },
    });
  });

  it('changes the specHash of exactly the components whose effective spec a changed default reaches', async () => {
    const hashes = async (files: Record<string, string>): Promise<Record<string, string>> =>
      Object.fromEntries([...(await load(stackDir(files))).components.values()].map((c) => [c.id, c.specHash]));
    const changed = (a: Record<string, string>, b: Record<string, string>): string[] =>
      Object.keys(a)
        .filter((id) => a[id] !== b[id])
        .sort();
    const before = await hashes(FILES);
    // Read by everyone.
    expect(changed(before, await hashes(edit(FILES, 'infra/defaults.yaml', 'stopTimeout: 10', 'stopTimeout: 20')))).toEqual([
      'admin/console',
      'web/api',
      'web/other',
    ]);
    // Overridden in service web: only admin sees it.
    expect(changed(before, await hashes(edit(FILES, 'infra/defaults.yaml', 'replicas: 1', 'replicas: 5')))).toEqual(['admin/console']);
    expect(changed(before, await hashes(edit(FILES, 'services/web/defaults.yaml', 'memory: 1024', 'memory: 2048')))).toEqual([
      'web/api',
      'web/other',
    ]);
    expect(changed(before, await hashes(edit(FILES, 'infra/components.yaml', 'cpu: 1024', 'cpu: 2048')))).toEqual(['web/api']);
    // Overridden by the component itself: nobody.
    expect(changed(before, await hashes(edit(FILES, 'infra/components.yaml', 'replicas: 3', 'replicas: 6')))).toEqual([]);
    // A stack-wide tag, overridden in service web.
    expect(changed(before, await hashes(edit(FILES, 'infra/defaults.yaml', 'team: platform', 'team: core')))).toEqual(['admin/console']);
  });

  it('applies an environment overlay of a defaults document', async () => {
    const overlay = INFRA.replace(/ {2}tags:[\s\S]*/, '  components:\n    MicroService:\n      stopTimeout: 30\n');
    const stack = await load(stackDir({ ...FILES, 'environments/dev/infra/defaults.yaml': overlay }));
    expect([...stack.components.values()].map((c) => [c.id, c.spec['stopTimeout'], c.spec['cpu']])).toEqual([
      ['admin/console', 30, 256],
      ['web/api', 30, 1024],
      ['web/other', 30, 512],
    ]);
  });
});

describe('defaults: problems are located where the value was written', () => {
  it('reports an invalid default at the InfraDefaults line, once per component that inherits it', async () => {
    const files = edit(
      edit(FILES, 'infra/defaults.yaml', 'cpu: 256', 'cpu: 3'),
      'infra/defaults.yaml',
      'stopTimeout: 10',
      'stopTimeout: soon',
    );
    expect(await problemsOf(stackDir(files))).toEqual([
      // cpu: only admin/console inherits it (service web sets its own).
      'infra/defaults.yaml:12:7 MicroService/console /spec/cpu [minimum] must be >= 128',
      'infra/defaults.yaml:14:7 MicroService/console /spec/stopTimeout [type] must be integer',
      'infra/defaults.yaml:14:7 MicroService/api /spec/stopTimeout [type] must be integer',
      'infra/defaults.yaml:14:7 MicroService/other /spec/stopTimeout [type] must be integer',
    ]);
  });

  it('reports an invalid value of ServiceInfraDefaults or ComponentInfra in that file', async () => {
    const files = edit(
      edit(FILES, 'services/web/defaults.yaml', 'memory: 1024', 'memory: lots'),
      'infra/components.yaml',
      'cpu: 1024',
      'cpu: 1',
    );
    expect(await problemsOf(stackDir(files))).toEqual([
      'infra/components.yaml:8:3 MicroService/api /spec/cpu [minimum] must be >= 128',
      `${path.join('services', 'web', 'defaults.yaml')}:13:7 MicroService/api /spec/memory [type] must be integer`,
      `${path.join('services', 'web', 'defaults.yaml')}:13:7 MicroService/other /spec/memory [type] must be integer`,
    ]);
  });

  it('reports a value the component overrides in the component, not in the defaults', async () => {
    const files = edit(FILES, 'services/web/api.yaml', 'replicas: 4', 'replicas: 0');
    expect(await problemsOf(stackDir(files))).toEqual([
      `${path.join('services', 'web', 'api.yaml')}:7:3 MicroService/api /spec/replicas [minimum] must be >= 1`,
    ]);
  });

  it('reports a field missing from the component in the component, though defaults exist for its kind', async () => {
    const files = { ...FILES, 'services/web/api.yaml': micro('api', '  replicas: 4\n') };
    expect(await problemsOf(stackDir(files))).toEqual([
      `${path.join('services', 'web', 'api.yaml')}:5:1 MicroService/api /spec [required] missing required field "port"`,
    ]);
  });

  it('reports an invalid base default in the base file when an overlay of that document changes something else', async () => {
    const overlay = INFRA.replace(/ {2}tags:[\s\S]*/, '  components:\n    MicroService:\n      memory: 2048\n');
    const files = { ...edit(FILES, 'infra/defaults.yaml', 'cpu: 256', 'cpu: 3'), 'environments/dev/infra/defaults.yaml': overlay };
    expect(await problemsOf(stackDir(files))).toEqual(['infra/defaults.yaml:12:7 MicroService/console /spec/cpu [minimum] must be >= 128']);
    const badOverlay = overlay.replace('memory: 2048', 'memory: 1');
    expect(await problemsOf(stackDir({ ...FILES, 'environments/dev/infra/defaults.yaml': badOverlay }))).toEqual([
      `${path.join('environments', 'dev', 'infra', 'defaults.yaml')}:8:7 MicroService/console /spec/memory [minimum] must be >= 128`,
    ]);
  });

  it('reports a ComponentInfra for a component that does not exist', async () => {
    const files = {
      ...FILES,
      'infra/more.yaml': COMPONENT_INFRA.replace('name: api', 'name: apx'),
      'infra/other-service.yaml': COMPONENT_INFRA.replace('service: web', 'service: billing'),
    };
    expect(await problemsOf(stackDir(files))).toEqual([
      'infra/more.yaml:4:3 ComponentInfra/apx /metadata/name [reference] ComponentInfra for web/apx, which is not a component of this stack',
      'infra/other-service.yaml:4:3 ComponentInfra/api /metadata/name [reference] ComponentInfra for billing/api, which is not a component of this stack',
    ]);
  });
});

describe('DefaultsIndex and effectiveSpec', () => {
  it('orders the layers InfraDefaults, ServiceInfraDefaults, ComponentInfra, with their pointers', () => {
    const index = new DefaultsIndex();
    index.add('ComponentInfra', { metadata: { name: 'api', service: 'web' }, spec: { cpu: 3 } }, 2);
    index.add(
      'ServiceInfraDefaults',
      { metadata: { name: 'd', service: 'web' }, spec: { tags: { t: 's' }, components: { MicroService: { cpu: 2 } } } },
      1,
    );
    index.add(
      'InfraDefaults',
      { metadata: { name: 'd' }, spec: { region: 'eu-west-1', components: { MicroService: { cpu: 1, memory: 1 }, RDS: { x: 1 } } } },
      0,
    );
    const layers = index.layers('MicroService', 'web', 'web/api');
    expect(layers.map((l) => [l.source, l.pointer])).toEqual([
      [0, '/spec/components/MicroService'],
      [1, '/spec'],
      [1, '/spec/components/MicroService'],
      [2, '/spec'],
    ]);
    expect(effectiveSpec({ port: 1 }, layers)).toEqual({ cpu: 3, memory: 1, tags: { t: 's' }, port: 1 });
    expect(index.layers('MicroService', 'admin', 'admin/x').map((l) => l.source)).toEqual([0]);
    expect(index.region()).toBe('eu-west-1');
    expect(index.unknownComponents(new Set(['web/api']))).toEqual([]);
    expect(index.unknownComponents(new Set())).toEqual([{ id: 'web/api', source: 2 }]);
  });
});

/**
 * Variables in values, through discover() on stacks written to temp dirs: `${var.x}` from the
 * Stack's spec.variables, --var-file and --var (highest), `${env.X}` only when the Stack lists
 * X in spec.allowEnv, whole-value references keeping their type, and the `$${` escape.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { problemsRaised } from '../../test/helpers/problems.js';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import { InvalidInputError } from '../errors.js';
import type { DesiredStack } from '../model/desired.js';
import { discover, type DiscoverOptions } from './index.js';
import { interpolate } from './interpolate.js';

afterAll(removeTestdirs);

const stackDir = (files: Record<string, string>): string => writeStackDir(files);

type Options = Omit<DiscoverOptions, 'dir' | 'displayBase'>;

function load(dir: string, options: Options = {}): Promise<DesiredStack> {
  return discover({ dir, displayBase: dir, environment: 'dev', env: {}, ...options });
}

function problemsOf(dir: string, options: Options = {}): Promise<string[]> {
  return problemsRaised(load(dir, options));
}

const STACK = `apiVersion: core.deployer.io/v1
kind: Stack
metadata:
  name: vars
spec:
  environments: [dev, prod]
  variables:
    port: 8080
    replicas: 2
    tag: "1.0"
    registry: registry.example.com
    debug: false
  allowEnv: [GIT_SHA]
`;
const SERVICE = 'apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: web\n';
/** Lines 6.. of the component are `spec` lines, each written by the test. */
const api = (specLines: string): string =>
  `apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: api\nspec:\n${specLines}`;
const API = api(`  port: \${var.port}
  image: "\${var.registry}/api:\${var.tag}"
  replicas: \${var.replicas}
  env:
    DEBUG: \${var.debug}
    LISTEN: "0.0.0.0:\${var.port}"
`);
const API_FILE = path.join('services', 'web', 'api.yaml');

function stackWith(component: string, extra: Record<string, string> = {}): string {
  return stackDir({ 'stack.yaml': STACK, 'services/web/service.yaml': SERVICE, 'services/web/api.yaml': component, ...extra });
}

describe('variables: ${var.x}', () => {
  it("reads the Stack's variables; a whole-value reference keeps its type, a spliced one becomes text", async () => {
    const stack = await load(stackWith(API));
    expect(stack.components.get('web/api')!.spec).toEqual({
      port: 8080,
      image: 'registry.example.com/api:1.0',
      replicas: 2,
      env: { DEBUG: false, LISTEN: '0.0.0.0:8080' },
    });
  });

  it('takes --var over --var-file over the Stack, later --var-files over earlier ones', async () => {
    // A variables file inside the stack directory is not a stack document: .deployerignore says so.
    const dir = stackWith(API, {
      '.deployerignore': 'vars/\n',
      'vars/prod.yaml': 'tag: "2.0"\nport: 9000\n',
      'vars/hotfix.yaml': 'tag: "2.1"\n',
    });
    const fromFile = (await load(dir, { varFiles: ['vars/prod.yaml'] })).components.get('web/api')!.spec;
    expect([fromFile['image'], fromFile['port'], fromFile['replicas']]).toEqual(['registry.example.com/api:2.0', 9000, 2]);
    const twoFiles = (await load(dir, { varFiles: ['vars/prod.yaml', path.join(dir, 'vars', 'hotfix.yaml')] })).components.get(
      'web/api',
    )!.spec;
    expect([twoFiles['image'], twoFiles['port']]).toEqual(['registry.example.com/api:2.1', 9000]);
    const fromOption = (await load(dir, { varFiles: ['vars/prod.yaml'], variables: { tag: '3.0' } })).components.get('web/api')!.spec;
    expect([fromOption['image'], fromOption['port']]).toEqual(['registry.example.com/api:3.0', 9000]);
  });

  it('validates the substituted value: a number validates as an integer, a string variable does not', async () => {
    const dir = stackWith(API);
    expect((await load(dir, { variables: { port: 9090 } })).components.get('web/api')!.spec['port']).toBe(9090);
    expect(await problemsOf(dir, { variables: { port: '9090' } })).toEqual([
      `${API_FILE}:6:3 MicroService/api /spec/port [oneOf] must be an integer from 1 to 65535, or "auto"`,
    ]);
  });

  it('changes the specHash when a variable changes the spec', async () => {
    const dir = stackWith(API);
    const a = (await load(dir)).components.get('web/api')!.specHash;
    const b = (await load(dir, { variables: { tag: '1.1' } })).components.get('web/api')!.specHash;
    expect(a).not.toBe(b);
    expect((await load(dir, { variables: { tag: '1.0' } })).components.get('web/api')!.specHash).toBe(a);
  });

  it('reports an unknown variable where it is used, with a did-you-mean hint when one is close', async () => {
    const dir = stackWith(api('  port: 8080\n  image: "nginx:${var.tg}"\n  env:\n    MODE: ${var.mode}\n'));
    expect(await problemsOf(dir)).toEqual([
      `${API_FILE}:7:3 MicroService/api /spec/image [variable] unknown variable var.tg; did you mean var.tag? (define it in the Stack's spec.variables or pass --var tg=...)`,
      `${API_FILE}:9:5 MicroService/api /spec/env/MODE [variable] unknown variable var.mode (define it in the Stack's spec.variables or pass --var mode=...)`,
    ]);
    // Defined by --var, it is known.
    expect((await load(dir, { variables: { tg: 'x', mode: 'fast' } })).components.get('web/api')!.spec['image']).toBe('nginx:x');
  });

  it('substitutes in other documents too, and locates a problem of an overlay in the overlay file', async () => {
    const overlay = path.join('environments', 'prod', 'services', 'web', 'api.yaml');
    const dir = stackWith(API, {
      'services/web/service.yaml': `${SERVICE}spec:\n  version: "\${var.tag}"\n`,
      [overlay]: api('  replicas: ${var.replica}\n'),
    });
    expect((await load(dir)).services.get('web')!.version).toBe('1.0');
    expect(await problemsOf(dir, { environment: 'prod' })).toEqual([
      `${overlay}:6:3 MicroService/api /spec/replicas [variable] unknown variable var.replica; did you mean var.replicas? (define it in the Stack's spec.variables or pass --var replica=...)`,
      // The reference is left as written, a string, which the schema refuses as well.
      `${overlay}:6:3 MicroService/api /spec/replicas [type] must be integer`,
    ]);
  });

  it('refuses a --var-file that cannot be read or is not a mapping', async () => {
    const dir = stackWith(API, { 'vars/list.yaml': '- a\n- b\n' });
    const missing = await load(dir, { varFiles: ['vars/none.yaml'] }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(InvalidInputError);
    expect((missing as Error).message).toMatch(/^cannot read the variables file vars\/none\.yaml: ENOENT/);
    const list = await load(dir, { varFiles: ['vars/list.yaml'] }).catch((e: unknown) => e);
    expect(list).toBeInstanceOf(InvalidInputError);
    expect((list as Error).message).toBe('the variables file vars/list.yaml must be a mapping of names to values');
  });
});

describe('variables: ${env.X}', () => {
  const ENV_API = api('  port: 8080\n  image: "nginx:${env.GIT_SHA}"\n  env:\n    SHA: ${env.GIT_SHA}\n    HOME_DIR: ${env.HOME}\n');

  it('refuses a variable the Stack does not list in allowEnv, even when it is set', async () => {
    const dir = stackWith(ENV_API);
    expect(await problemsOf(dir, { env: { GIT_SHA: 'abc123', HOME: '/root' } })).toEqual([
      `${API_FILE}:10:5 MicroService/api /spec/env/HOME_DIR [variable] env.HOME is not allowed: list it in the Stack's spec.allowEnv`,
    ]);
  });

  it('reads an allowed variable from the env option, not from the process environment', async () => {
    const dir = stackWith(api('  port: 8080\n  image: "nginx:${env.GIT_SHA}"\n  env:\n    SHA: ${env.GIT_SHA}\n'));
    const spec = (await load(dir, { env: { GIT_SHA: 'abc123' } })).components.get('web/api')!.spec;
    expect([spec['image'], spec['env']]).toEqual(['nginx:abc123', { SHA: 'abc123' }]);
  });

  it('reports an allowed variable that is not set, at each use', async () => {
    const dir = stackWith(api('  port: 8080\n  image: "nginx:${env.GIT_SHA}"\n  env:\n    SHA: ${env.GIT_SHA}\n'));
    expect(await problemsOf(dir, { env: {} })).toEqual([
      `${API_FILE}:7:3 MicroService/api /spec/image [variable] env.GIT_SHA is not set in the environment`,
      `${API_FILE}:9:5 MicroService/api /spec/env/SHA [variable] env.GIT_SHA is not set in the environment`,
    ]);
  });
});

describe('variables: the $${ escape', () => {
  it('writes a literal ${ and substitutes nothing after it', async () => {
    const dir = stackWith(api('  port: 8080\n  env:\n    TEMPLATE: "$${var.port} is ${var.port}"\n    RAW: $${env.HOME}\n'));
    expect((await load(dir)).components.get('web/api')!.spec['env']).toEqual({ TEMPLATE: '${var.port} is 8080', RAW: '${env.HOME}' });
  });
});

describe('interpolate()', () => {
  const scope = { vars: { n: 3, on: true, s: 'x' }, env: { A: '1' }, allowEnv: new Set(['A']) };

  it('returns a value without references as it is (no copy), and copies only what changes', () => {
    const value = { a: { b: [1, 'two'] }, c: { d: '${var.n}' } };
    const r = interpolate(value, scope);
    expect(r.problems).toEqual([]);
    expect(r.value).toEqual({ a: { b: [1, 'two'] }, c: { d: 3 } });
    expect((r.value as typeof value).a).toBe(value.a);
    expect(value.c.d).toBe('${var.n}');
    expect(interpolate(value.a, scope).value).toBe(value.a);
  });

  it('keeps the type of a whole-value reference (boolean, number) and splices the rest', () => {
    expect(interpolate(['${var.on}', '${var.n}', '${var.s}', 'n=${var.n}, on=${var.on}', '${env.A}${env.A}'], scope).value).toEqual([
      true,
      3,
      'x',
      'n=3, on=true',
      '11',
    ]);
  });

  it('leaves an unresolved reference as written and reports it at its JSON pointer (escaped)', () => {
    const r = interpolate({ 'a/b': ['ok', '${var.nope}'], '~k': '${env.B}' }, scope);
    expect(r.value).toEqual({ 'a/b': ['ok', '${var.nope}'], '~k': '${env.B}' });
    expect(r.problems.map((p) => `${p.pointer} ${p.rule}`)).toEqual(['/a~1b/1 variable', '/~0k variable']);
  });
});

describe('variables: references that are neither var nor env', () => {
  it('reports ${vars.x} and ${foo} instead of leaving them as text', () => {
    const r = interpolate({ a: 'x-${vars.region}', b: '${foo}', c: 'plain $x' }, { vars: { region: 'eu' }, env: {}, allowEnv: new Set() });
    expect(r.problems).toEqual([
      {
        pointer: '/a',
        message: 'unknown reference ${vars.region}: write ${var.NAME} or ${env.NAME}, or $${ for a literal ${',
        rule: 'variable',
      },
      { pointer: '/b', message: 'unknown reference ${foo}: write ${var.NAME} or ${env.NAME}, or $${ for a literal ${', rule: 'variable' },
    ]);
    expect(r.value).toEqual({ a: 'x-${vars.region}', b: '${foo}', c: 'plain $x' });
  });
});

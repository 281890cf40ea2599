/**
 * Files that start with a UTF-8 byte-order mark (EF BB BF), as Windows editors write them:
 * their documents are read like any other (never dropped), problems in them are located at the
 * line and column an editor shows (the mark is not a column), and the same holds for
 * `deployer.config.yaml` and `--var-file` files, which are read outside the stack's parser.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { problemsRaised } from '../../test/helpers/problems.js';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import { resolveSettings } from '../config/settings.js';
import { discover } from './index.js';
import { Locator } from './locate.js';
import { parseYamlFile } from './parse.js';

afterAll(removeTestdirs);

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const withBom = (text: string): Buffer => Buffer.concat([BOM, Buffer.from(text)]);

const STACK = 'apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: bom\nspec:\n  environments: [dev]\n';
const SERVICE = 'apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: web\n';
const API = 'apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: api\nspec:\n  port: 8080\n';
/** A second component that depends on api, so that a dropped api.yaml fails as "unknown component". */
const WORKER =
  'apiVersion: components.deployer.io/v1\nkind: Worker\nmetadata:\n  name: jobs\nspec:\n  image: jobs:1\n  dependsOn: [web/api]\n';
const web = (file: string): string => path.join('services', 'web', file);

/** A valid stack (web/api, and web/jobs that depends on it unless `jobs` is false) plus `files`. */
function stackDir(files: Record<string, string | Buffer>, jobs = true): string {
  return writeStackDir({
    'stack.yaml': STACK,
    [web('service.yaml')]: SERVICE,
    [web('api.yaml')]: API,
    ...(jobs ? { [web('jobs.yaml')]: WORKER } : {}),
    ...files,
  });
}

const load = (dir: string, cacheDir: string | false = false) => discover({ dir, displayBase: dir, cacheDir, environment: 'dev' });

describe('a stack file that starts with a byte-order mark', () => {
  it.each([
    ['a component file', web('api.yaml'), API],
    ['stack.yaml', 'stack.yaml', STACK],
    ['service.yaml', web('service.yaml'), SERVICE],
  ])('reads %s with its documents, with and without the parse cache', async (_label, file, text) => {
    const dir = stackDir({ [file]: withBom(text) });
    const cacheDir = path.join(dir, '.deployer', 'cache');
    for (const cache of [false, cacheDir, cacheDir] as const) {
      const stack = await load(dir, cache);
      expect(stack.name).toBe('bom');
      expect([...stack.components.keys()].sort()).toEqual(['web/api', 'web/jobs']);
      expect(stack.components.get('web/api')!.spec['port']).toBe(8080);
    }
  });

  it('locates a problem on the first line of a component file at column 1, and one further down as in a file without the mark', async () => {
    const text = `bogus: 1\n${API.replace('port: 8080', 'port: eighty')}`;
    const expected = [
      `${web('api.yaml')}:1:1 MicroService/api /bogus [additionalProperties] unknown field "bogus"; expected one of apiVersion, kind, metadata, spec`,
      `${web('api.yaml')}:7:3 MicroService/api /spec/port [oneOf] must be an integer from 1 to 65535, or "auto"`,
    ];
    expect(await problemsRaised(load(stackDir({ [web('api.yaml')]: text }, false)))).toEqual(expected);
    expect(await problemsRaised(load(stackDir({ [web('api.yaml')]: withBom(text) }, false)))).toEqual(expected);
  });

  it('locates a problem on the first line of stack.yaml at column 1', async () => {
    const text = `bogus: 1\n${STACK}`;
    const problems = await problemsRaised(load(stackDir({ 'stack.yaml': withBom(text) }, false)));
    expect(problems.map((p) => p.split(' ')[0])).toEqual(['stack.yaml:1:1']);
  });

  it('keeps positions right where the Locator re-reads the file, and reads a top-level list after the mark', () => {
    const dir = stackDir({ [web('api.yaml')]: withBom(API) });
    const locator = new Locator();
    const file = path.join(dir, web('api.yaml'));
    expect(locator.where(file, 'api.yaml', 0, '/apiVersion')).toEqual({ file: 'api.yaml', line: 1, col: 1 });
    expect(locator.where(file, 'api.yaml', 0, '/spec/port')).toEqual({ file: 'api.yaml', line: 6, col: 3 });
    // `yaml` alone misreads a block sequence that follows the mark (it sees the mark as an indentation).
    const list = parseYamlFile('list.yaml', '\uFEFF- a\n- b: 1\n');
    expect(list.problems).toEqual([]);
    expect(list.documents.map((d) => d.data)).toEqual([['a', { b: 1 }]]);
  });
});

describe('settings and variables files that start with a byte-order mark', () => {
  it('reads deployer.config.yaml, and reports a list in it as not a mapping (not as a YAML error)', () => {
    const dir = writeStackDir({ 'deployer.config.yaml': withBom('concurrency: 3\nstateUrl: s3://b/state\n') });
    const settings = resolveSettings({ dir }, {});
    expect([settings.concurrency, settings.stateUrl]).toEqual([3, 's3://b/state']);
    writeFileSync(path.join(dir, 'deployer.config.yaml'), withBom('- concurrency: 3\n'));
    expect(() => resolveSettings({ dir }, {})).toThrow(`${path.join(dir, 'deployer.config.yaml')}: expected a mapping of settings`);
  });

  it('reports a YAML error on the first line of deployer.config.yaml at the column an editor shows', () => {
    const dir = writeStackDir({ 'deployer.config.yaml': withBom('concurrency: 3: 4\n') });
    expect(() => resolveSettings({ dir }, {})).toThrow(/at line 1, column 14:/);
  });

  it('reads a --var-file, and reports a list in it as not a mapping', async () => {
    const dir = stackDir(
      {
        // A variables file inside the stack directory is not a stack document.
        '.deployerignore': 'vars/\n',
        [web('api.yaml')]: API.replace('port: 8080', 'port: ${var.port}'),
        'vars/dev.yaml': withBom('port: 9090\n'),
        'vars/list.yaml': withBom('- port: 9090\n'),
      },
      false,
    );
    const stack = await discover({ dir, displayBase: dir, cacheDir: false, varFiles: ['vars/dev.yaml'] });
    expect(stack.components.get('web/api')!.spec['port']).toBe(9090);
    await expect(discover({ dir, displayBase: dir, cacheDir: false, varFiles: ['vars/list.yaml'] })).rejects.toThrow(
      'the variables file vars/list.yaml must be a mapping of names to values',
    );
  });
});

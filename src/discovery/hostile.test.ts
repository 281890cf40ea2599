/**
 * Hostile input: every file below gives a located problem (or, where harmless, is read
 * correctly), never a crash or a hang. Alias bombs, huge scalars, pathological nesting,
 * duplicate keys, bytes that are not UTF-8, binary files, symlink loops, files that vanish
 * during the scan and files over the size limit.
 */
import { symlinkSync, truncateSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { problemsRaised } from '../../test/helpers/problems.js';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import type { DesiredStack } from '../model/desired.js';
import { discover } from './index.js';
import { DocumentCache, loadFiles } from './read-documents.js';
import { parseFast } from './parse-fast.js';
import { scanStackDir } from './scan.js';

afterAll(removeTestdirs);

const STACK = 'apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: hostile\nspec:\n  environments: [dev]\n';
const SERVICE = 'apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: web\n';
const API = 'apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: api\nspec:\n  port: 8080\n';
const web = (file: string): string => path.join('services', 'web', file);

/** A valid stack (web/api) plus `files`. */
function stackDir(files: Record<string, string | Buffer>): string {
  return writeStackDir({ 'stack.yaml': STACK, [web('service.yaml')]: SERVICE, [web('api.yaml')]: API, ...files });
}

function load(dir: string): Promise<DesiredStack> {
  return discover({ dir, displayBase: dir, cacheDir: false });
}

function problemsOf(dir: string): Promise<string[]> {
  return problemsRaised(load(dir));
}

const NESTING = '- / [nesting] a document nests deeper than 64 levels';

function billionLaughs(): string {
  const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 10; i++) {
    const name = String.fromCharCode(97 + i);
    levels.push(
      `${name}: &${name} [${Array(9)
        .fill(`*${String.fromCharCode(96 + i)}`)
        .join(',')}]`,
    );
  }
  return levels.join('\n') + '\n';
}

describe('hostile input: YAML', () => {
  it('refuses an alias bomb (billion laughs) in the second document of a file, and reads ordinary aliases', async () => {
    expect(await problemsOf(stackDir({ [web('lol.yaml')]: `${API.replace('name: api', 'name: first')}---\n${billionLaughs()}` }))).toEqual([
      `${web('lol.yaml')}:8:1 - / [yaml] Excessive alias count indicates a resource exhaustion attack`,
    ]);
    const aliased =
      'apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: twin\nspec:\n  port: 8081\n  env: &env\n    MODE: fast\n  healthCheck:\n    path: /healthz\n---\napiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: twin2\nspec:\n  port: 8082\n  env: *env\n';
    expect(await problemsOf(stackDir({ [web('twins.yaml')]: aliased }))).toEqual([
      // An alias refers to a node of its own document only; reported at the document that uses it.
      `${web('twins.yaml')}:12:1 - / [yaml] Unresolved alias (the anchor must be set before the alias): env`,
    ]);
    const oneDoc =
      'apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: twin\nspec:\n  port: 8081\n  env: &env\n    MODE: fast\n  tags: *env\n';
    expect((await load(stackDir({ [web('twin.yaml')]: oneDoc }))).components.get('web/twin')!.spec).toEqual({
      port: 8081,
      env: { MODE: 'fast' },
      tags: { MODE: 'fast' },
    });
  });

  it('parses and validates a 10 MiB scalar, and reports one of the wrong type', { timeout: 30_000 }, async () => {
    const big = 'x'.repeat(10 * 1024 * 1024);
    const stack = await load(stackDir({ [web('big.yaml')]: `${API.replace('name: api', 'name: big')}  env:\n    BLOB: "${big}"\n` }));
    expect((stack.components.get('web/big')!.spec['env'] as { BLOB: string }).BLOB.length).toBe(10 * 1024 * 1024);
    expect(
      await problemsOf(stackDir({ [web('big.yaml')]: API.replace('name: api', 'name: big').replace('port: 8080', `port: ${big}`) })),
    ).toEqual([`${web('big.yaml')}:6:3 MicroService/big /spec/port [oneOf] must be an integer from 1 to 65535, or "auto"`]);
  });

  it.each([
    ['flow mappings 5,000 deep', '{a: '.repeat(5000) + '1' + '}'.repeat(5000)],
    ['flow sequences 5,000 deep', '['.repeat(5000) + ']'.repeat(5000)],
    ['block mappings 5,000 deep', Array.from({ length: 5000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n'],
    ['block sequences 5,000 deep', Array.from({ length: 5000 }, (_, i) => `${' '.repeat(i)}-`).join('\n') + ' 1\n'],
    ['mappings 100 deep', '{a: '.repeat(100) + '1' + '}'.repeat(100)],
    ['flow mappings 5,000 deep with an alias in the file', `x: &x 1\ny: *x\nz: ${'{a: '.repeat(5000)}1${'}'.repeat(5000)}`],
    ['flow mappings 200,000 deep after a syntax error', `a: b: c\nz: ${'{a: '.repeat(200_000)}1${'}'.repeat(200_000)}`],
  ])('reports %s as one nesting problem at the top of the file', async (_label, text) => {
    expect(await problemsOf(stackDir({ [web('deep.yaml')]: text }))).toEqual([`${web('deep.yaml')}:1:1 ${NESTING}`]);
  });

  it('accepts nesting up to the limit', () => {
    const nested = (n: number): string => '{a: '.repeat(n) + '1' + '}'.repeat(n);
    expect(parseFast('ok.yaml', nested(64)).problems).toEqual([]);
    expect(parseFast('deep.yaml', nested(65)).problems.map((p) => p.rule)).toEqual(['nesting']);
  });

  it('reports a duplicate key, in block and in flow style, at its second occurrence', async () => {
    expect(
      await problemsOf(
        stackDir({
          [web('dup.yaml')]: `${API.replace('name: api', 'name: dup')}  port: 8081\n`,
          [web('flow.yaml')]: '{kind: S3, kind: SQS}\n',
        }),
      ),
    ).toEqual([
      `${web('dup.yaml')}:7:3 - / [yaml:DUPLICATE_KEY] Map keys must be unique`,
      `${web('flow.yaml')}:1:12 - / [yaml:DUPLICATE_KEY] Map keys must be unique`,
    ]);
  });
});

describe('hostile input: bytes and files', () => {
  it('reports bytes that are not UTF-8 and binary files, and reads the other files', async () => {
    expect(
      await problemsOf(
        stackDir({
          [web('bom.yaml')]: Buffer.from([0xff, 0xfe]),
          [web('latin1.yaml')]: Buffer.concat([Buffer.from('kind: S3\nmetadata:\n  name: caf'), Buffer.from([0xe9]), Buffer.from('\n')]),
          [web('elf.yaml')]: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00]),
          [web('utf16.yaml')]: Buffer.from('kind: S3\n', 'utf16le'),
        }),
      ),
    ).toEqual([
      `${web('bom.yaml')}:1:1 - / [encoding] file is not valid UTF-8`,
      `${web('elf.yaml')}:1:1 - / [encoding] binary file (contains NUL bytes), not YAML`,
      `${web('latin1.yaml')}:1:1 - / [encoding] file is not valid UTF-8`,
      `${web('utf16.yaml')}:1:1 - / [encoding] binary file (contains NUL bytes), not YAML`,
    ]);
  });

  it('reports a file over 16 MiB without reading it', async () => {
    const dir = stackDir({ [web('huge.yaml')]: '' });
    truncateSync(path.join(dir, web('huge.yaml')), 16 * 1024 * 1024 + 1);
    expect(await problemsOf(dir)).toEqual([`${web('huge.yaml')}:1:1 - / [file-size] file is larger than 16 MiB`]);
  });

  it('follows a symlink loop in the tree once, reading each file once', async () => {
    const dir = stackDir({});
    symlinkSync(path.join(dir, 'services', 'web'), path.join(dir, 'services', 'web', 'loop'));
    symlinkSync('..', path.join(dir, 'services', 'up'));
    const scanned = await scanStackDir(dir);
    expect(scanned.base.map((f) => path.relative(dir, f))).toEqual(
      ['services/web/api.yaml', 'services/web/service.yaml', 'stack.yaml'].map((f) => f.split('/').join(path.sep)),
    );
    expect([...(await load(dir)).components.keys()]).toEqual(['web/api']);
  });

  it('skips a dangling symlink to a .yaml file, and a file that vanishes between the scan and the reading', async () => {
    const dir = stackDir({ [web('gone.yaml')]: 'kind: [\n' });
    symlinkSync(path.join(dir, 'nowhere.yaml'), path.join(dir, web('dangling.yaml')));
    expect(await problemsOf(dir)).toEqual([
      `${web('gone.yaml')}:2:1 - / [yaml:BAD_INDENT] Flow sequence in block collection must be sufficiently indented and end with a ]`,
    ]);
    const scanned = await scanStackDir(dir);
    expect(scanned.base.map((f) => path.basename(f)).sort()).toEqual(['api.yaml', 'gone.yaml', 'service.yaml', 'stack.yaml']);
    unlinkSync(path.join(dir, web('gone.yaml')));
    const loaded = await loadFiles(scanned.base, (f) => path.relative(dir, f), new DocumentCache(undefined));
    expect(loaded.problems).toEqual([]);
    expect(loaded.docs.map((d) => path.basename(d.file))).toEqual(['api.yaml', 'service.yaml', 'stack.yaml']);
    expect([...(await load(dir)).components.keys()]).toEqual(['web/api']);
  });

  it('reads an empty file and a file of comments as no documents', async () => {
    const stack = await load(stackDir({ [web('empty.yaml')]: '', [web('notes.yaml')]: '# nothing here\n---\n# nor here\n' }));
    expect([...stack.components.keys()]).toEqual(['web/api']);
  });
});

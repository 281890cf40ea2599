/**
 * Features across the pipeline: `.deployerignore` (gitignore syntax, at the stack root), and a
 * stack with problems of every kind in many files, all reported at once, sorted by file, then
 * line, then column.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { problemsRaised } from '../../test/helpers/problems.js';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import type { DesiredStack } from '../model/desired.js';
import { discover } from './index.js';
import { scanStackDir } from './scan.js';

afterAll(removeTestdirs);

const stackDir = (files: Record<string, string | Buffer>): string => writeStackDir(files);

function load(dir: string): Promise<DesiredStack> {
  return discover({ dir, displayBase: dir, environment: 'dev', env: {} });
}

function problemsOf(dir: string): Promise<string[]> {
  return problemsRaised(load(dir));
}

const STACK = 'apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: features\nspec:\n  environments: [dev]\n';
const SERVICE = 'apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: web\n';
const micro = (name: string, specLines = '  port: 8080\n'): string =>
  `apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: ${name}\nspec:\n${specLines}`;
const BROKEN = 'kind: [\n';
const web = (file: string): string => path.join('services', 'web', file);

describe('.deployerignore', () => {
  const IGNORE = '# not part of the stack\ndrafts/\n/legacy\nservices/web/old.yaml\n*.draft.yaml\n!keep.draft.yaml\n';

  it('leaves out the directories and files it names, whatever they hold', async () => {
    const dir = stackDir({
      '.deployerignore': IGNORE,
      'stack.yaml': STACK,
      [web('service.yaml')]: SERVICE,
      [web('api.yaml')]: micro('api'),
      'drafts/broken.yaml': BROKEN,
      [web('drafts/api.yaml')]: micro('api'),
      'environments/dev/drafts/overlay.yaml': micro('nothing'),
      'legacy/old-stack.yaml': STACK,
      [web('old.yaml')]: micro('api'),
      [web('next.draft.yaml')]: Buffer.from([0xff, 0xfe, 0x00]),
      [web('keep.draft.yaml')]: micro('kept', '  port: 8081\n'),
      // Anchored at the root: a nested legacy/ is not ignored.
      [web('legacy/worker.yaml')]: micro('worker', '  port: 8082\n'),
    });
    const scanned = await scanStackDir(dir);
    expect(scanned.base.map((f) => path.relative(dir, f))).toEqual([
      web('api.yaml'),
      web('keep.draft.yaml'),
      web('legacy/worker.yaml'),
      web('service.yaml'),
      'stack.yaml',
    ]);
    expect(scanned.overlays.size).toBe(0);
    const stack = await load(dir);
    expect([...stack.components.keys()]).toEqual(['web/api', 'web/kept', 'web/worker']);
  });

  it('without it, the same files are problems', async () => {
    const dir = stackDir({
      'stack.yaml': STACK,
      [web('service.yaml')]: SERVICE,
      [web('api.yaml')]: micro('api'),
      'drafts/broken.yaml': BROKEN,
    });
    expect(await problemsOf(dir)).toEqual([
      `${path.join('drafts', 'broken.yaml')}:2:1 - / [yaml:BAD_INDENT] Flow sequence in block collection must be sufficiently indented and end with a ]`,
    ]);
  });

  it('reports a .deployerignore that cannot be read', async () => {
    const dir = stackDir({ 'stack.yaml': STACK, '.deployerignore/README': 'a directory, not a file\n' });
    expect(await problemsOf(dir)).toEqual(['.deployerignore:1:1 - / [ignore] cannot read .deployerignore: EISDIR']);
  });
});

const literalSecret = (key: string, word: string, pointer: string): string =>
  `"${key}" is named like a secret ("${word}") and holds a literal, which would be written into the state: write it as {secretRef: {provider: aws-secretsmanager|env|file, key}}, or, if it is not a secret, list ${pointer} in the annotation metadata.annotations["deployer.io/not-secret"]`;

describe('every problem at once', () => {
  it('reports problems of different kinds in different files together, sorted by file, line and column', async () => {
    const dir = stackDir({
      'stack.yaml': `${STACK}  target: aws\n  region: eu-west-1\n  variables:\n    tag: "1.0"\n    apiKey: "Zt5#qL9!wX2@pR7v"\n`,
      'infra/defaults.yaml':
        'apiVersion: infra.deployer.io/v1\nkind: InfraDefaults\nmetadata:\n  name: defaults\nspec:\n  components:\n    MicroService:\n      cpu: 3\n',
      'infra/compliance.yaml':
        'apiVersion: infra.deployer.io/v1\nkind: Compliance\nmetadata:\n  name: c\nspec:\n  rules:\n    - name: tags\n      type: requiredTags\n      tags: [team]\n      kinds: [S3]\n',
      'infra/ghost.yaml':
        'apiVersion: infra.deployer.io/v1\nkind: ComponentInfra\nmetadata:\n  name: ghost\n  service: web\nspec:\n  cpu: 256\n',
      [web('service.yaml')]: SERVICE,
      [web('api.yaml')]: micro(
        'api',
        '  port: 8080\n  image: "example/api:${var.tg}"\n  replicas: 0\n  cpu: 256\n  dependsOn: [web/wroker]\n',
      ),
      [web('front.yaml')]: micro('front', '  port: 3000\n'),
      [web('bucket.yaml')]: 'apiVersion: components.deployer.io/v1\nkind: S3\nmetadata:\n  name: files\nspec:\n  versioning: true\n',
      [web('copy.yaml')]: `# the same component again\n${micro('api', '  port: 8080\n  cpu: 256\n')}`,
      [web('latin1.yaml')]: Buffer.from([0x6b, 0x3a, 0x20, 0xe9, 0x0a]),
      [web('broken.yaml')]: `${micro('worker')}  env: [\n`,
      [web('deep.yaml')]: '{a: '.repeat(80) + '1' + '}'.repeat(80),
      [web('db.yaml')]:
        'apiVersion: components.deployer.io/v1\nkind: RDS\nmetadata:\n  name: db\nspec:\n  engine: postgress\n  masterPassword: hunter22\n',
    });
    expect(await problemsOf(dir)).toEqual([
      // front has no cpu of its own: the invalid default is reported where it is written.
      'infra/defaults.yaml:8:7 MicroService/front /spec/cpu [minimum] must be >= 128',
      'infra/ghost.yaml:4:3 ComponentInfra/ghost /metadata/name [reference] ComponentInfra for web/ghost, which is not a component of this stack',
      `${web('api.yaml')}:7:3 MicroService/api /spec/image [variable] unknown variable var.tg; did you mean var.tag? (define it in the Stack's spec.variables or pass --var tg=...)`,
      `${web('api.yaml')}:8:3 MicroService/api /spec/replicas [minimum] must be >= 1`,
      `${web('api.yaml')}:10:15 MicroService/api /spec/dependsOn/0 [reference] unknown component "web/wroker"`,
      `${web('broken.yaml')}:8:1 - / [yaml:BAD_INDENT] Flow sequence in block collection must be sufficiently indented and end with a ]`,
      `${web('bucket.yaml')}:5:1 S3/files /spec/tags [policy:tags] policy "tags" (requiredTags): web/files is missing the required tag team`,
      `${web('copy.yaml')}:5:3 MicroService/api /metadata/name [unique] duplicate component web/api: already defined at ${web('api.yaml')}:1:1 as MicroService/api; a component is <service>/<name> whatever its kind, and only an overlay under environments/<env>/ changes a document`,
      `${web('db.yaml')}:6:3 RDS/db /spec/engine [enum] must be one of ${['postgres', 'mysql', 'mariadb', 'aurora-postgresql', 'aurora-mysql', 'oracle-se2', 'oracle-ee', 'sqlserver-ex', 'sqlserver-web', 'sqlserver-se', 'sqlserver-ee'].map((e) => `"${e}"`).join(', ')}`,
      // A literal password, whatever its entropy, is a secret; the schema wants a secretRef as well.
      `${web('db.yaml')}:7:3 RDS/db /spec/masterPassword [secret:literal] ${literalSecret('masterPassword', 'password', '/spec/masterPassword')}`,
      `${web('db.yaml')}:7:3 RDS/db /spec/masterPassword [type] must be object`,
      `${web('deep.yaml')}:1:1 - / [nesting] a document nests deeper than 64 levels`,
      `${web('latin1.yaml')}:1:1 - / [encoding] file is not valid UTF-8`,
      `stack.yaml:11:5 Stack/features /spec/variables/apiKey [secret:literal] ${literalSecret('apiKey', 'key', '/spec/variables/apiKey')}`,
    ]);
  });
});

/**
 * Literal secrets are errors, located where they are written: AWS access key ids and private
 * key blocks anywhere; under a secret-named key (password, pass, pwd, passphrase, secret,
 * token, credential, or a last word key), any literal string or number whatever its entropy,
 * and `${env.X}` / `${var.X}`. A secretRef (or valueFrom) is a reference, not a secret; a
 * document marks its false positives in the `deployer.io/not-secret` annotation, and a stale
 * entry there is an error. The parse cache never keeps a file in which a secret was found.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { problemsRaised } from '../../test/helpers/problems.js';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import type { DesiredStack } from '../model/desired.js';
import { discover } from './index.js';
import { DocumentCache, loadFiles } from './read-documents.js';
import { scanStackDir } from './scan.js';
import { findLiteralSecrets } from './secrets.js';

afterAll(removeTestdirs);

const stackDir = (files: Record<string, string>): string => writeStackDir(files);

function load(dir: string, environment = 'dev'): Promise<DesiredStack> {
  return discover({ dir, displayBase: dir, environment, env: { CI_TOKEN: 'from-ci' } });
}

function problemsOf(dir: string, environment = 'dev'): Promise<string[]> {
  return problemsRaised(load(dir, environment));
}

const STACK =
  'apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: sec\nspec:\n  environments: [dev, prod]\n  allowEnv: [CI_TOKEN]\n  variables:\n    greeting: hello\n';
const SERVICE = 'apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: web\n';
const micro = (specLines: string, meta = ''): string =>
  `apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: api\n${meta}spec:\n${specLines}`;
const API_FILE = path.join('services', 'web', 'api.yaml');
const LITERAL = (key: string, word: string, pointer: string): string =>
  `"${key}" is named like a secret ("${word}") and holds a literal, which would be written into the state: write it as {secretRef: {provider: aws-secretsmanager|env|file, key}}, or, if it is not a secret, list ${pointer} in the annotation metadata.annotations["deployer.io/not-secret"]`;
const AWS_KEY = 'looks like an AWS access key id: write secrets as a secretRef, never as a value';
const PRIVATE_KEY = 'holds a private key: write secrets as a secretRef, never as a value';

function stackWith(api: string, extra: Record<string, string> = {}): string {
  return stackDir({ 'stack.yaml': STACK, 'services/web/service.yaml': SERVICE, 'services/web/api.yaml': api, ...extra });
}

describe('secrets: found in a stack', () => {
  it('reports every literal secret of a document at its own line and column', async () => {
    const api = micro(
      `  port: 8080
  command: [node, server.mjs, --key=AKIAIOSFODNN7EXAMPLE]
  env:
    DB_PASSWORD: "x8#Kq2!vPz9@Lm4w"
    API_TOKEN: \${env.CI_TOKEN}
    apiKey: "Zt5#qL9!wX2@pR7v"
    TLS_KEY: |
      -----BEGIN RSA PRIVATE KEY-----
      MIIEpAIBAAKCAQEA
      -----END RSA PRIVATE KEY-----
`,
      '  annotations:\n    deployed-with: ASIAIOSFODNN7EXAMPLE\n',
    );
    expect(await problemsOf(stackWith(api))).toEqual([
      `${API_FILE}:6:5 MicroService/api /metadata/annotations/deployed-with [secret:aws-key] ${AWS_KEY}`,
      `${API_FILE}:9:31 MicroService/api /spec/command/2 [secret:aws-key] ${AWS_KEY}`,
      `${API_FILE}:11:5 MicroService/api /spec/env/DB_PASSWORD [secret:literal] ${LITERAL('DB_PASSWORD', 'password', '/spec/env/DB_PASSWORD')}`,
      `${API_FILE}:12:5 MicroService/api /spec/env/API_TOKEN [secret:env] "API_TOKEN" takes a secret from \${env...}, which would write its value into the state: use {secretRef: {provider, key}}`,
      `${API_FILE}:13:5 MicroService/api /spec/env/apiKey [secret:literal] ${LITERAL('apiKey', 'key', '/spec/env/apiKey')}`,
      `${API_FILE}:14:5 MicroService/api /spec/env/TLS_KEY [secret:private-key] ${PRIVATE_KEY}`,
    ]);
  });

  it('accepts secretRef and valueFrom, booleans and empty strings in secret-named fields, and anything under other names', async () => {
    const api = micro(`  port: 8080
  env:
    SESSION_SECRET:
      secretRef: {provider: env, key: SESSION_SECRET}
    UPSTREAM_TOKEN:
      valueFrom: {component: web/auth, output: name}
    USE_TOKEN: true
    OLD_PASSWORD: ""
    GREETING: \${var.greeting}
    BUILD_ID: "x8#Kq2!vPz9@Lm4w"
    KMS_KEY_ID: alias/app
    KEY_PREFIX: app/
`);
    const auth = 'apiVersion: components.deployer.io/v1\nkind: Worker\nmetadata:\n  name: auth\nspec:\n  image: example/auth:1\n';
    const stack = await load(stackWith(api, { 'services/web/auth.yaml': auth }));
    expect(Object.keys(stack.components.get('web/api')!.spec['env'] as object)).toEqual([
      'SESSION_SECRET',
      'UPSTREAM_TOKEN',
      'USE_TOKEN',
      'OLD_PASSWORD',
      'GREETING',
      'BUILD_ID',
      'KMS_KEY_ID',
      'KEY_PREFIX',
    ]);
  });

  it('refuses any literal under a secret-named key, whatever its entropy, length or type', async () => {
    const api = micro(`  port: 8080
  env:
    DB_PASSWORD: hunter2hunter2
    ADMIN_PASSWORD: changeme
    DB_PASS: x
    MASTER_PASSPHRASE: correct horse battery staple
    dbPwd: 12345678
    API_KEY: abc
    SHORT_TOKEN: "aB3$xY"
`);
    expect(await problemsOf(stackWith(api))).toEqual(
      [
        [8, 'DB_PASSWORD', 'password'],
        [9, 'ADMIN_PASSWORD', 'password'],
        [10, 'DB_PASS', 'pass'],
        [11, 'MASTER_PASSPHRASE', 'passphrase'],
        [12, 'dbPwd', 'pwd'],
        [13, 'API_KEY', 'key'],
        [14, 'SHORT_TOKEN', 'token'],
      ].map(
        ([line, key, word]) =>
          `${API_FILE}:${line}:5 MicroService/api /spec/env/${key} [secret:literal] ${LITERAL(String(key), String(word), `/spec/env/${key}`)}`,
      ),
    );
  });

  it('refuses ${var.x} in a secret-named field: the value would be written into the state', async () => {
    const api = micro('  port: 8080\n  env:\n    GREETING_TOKEN: ${var.greeting}\n');
    expect(await problemsOf(stackWith(api))).toEqual([
      `${API_FILE}:8:5 MicroService/api /spec/env/GREETING_TOKEN [secret:var] "GREETING_TOKEN" takes a secret from \${var...}, which would write its value into the state: use {secretRef: {provider, key}}`,
    ]);
  });

  it('spares what metadata.annotations["deployer.io/not-secret"] lists, and reports a listed pointer that names no value where it is written', async () => {
    const api = micro(
      '  port: 8080\n  env:\n    TOKEN_URL: https://auth.example.com/token\n    CACHE_KEY: v1\n    OTHER_KEY: v2\n',
      '  annotations:\n    deployer.io/not-secret: "/spec/env/TOKEN_URL, /spec/env/CACHE_KEY /spec/env/GONE"\n',
    );
    expect(await problemsOf(stackWith(api))).toEqual([
      `${API_FILE}:6:5 MicroService/api /metadata/annotations/deployer.io~1not-secret [secret:not-secret] lists /spec/env/GONE, which names no value of this document: remove it (a stale entry would hide a secret written there later)`,
      `${API_FILE}:12:5 MicroService/api /spec/env/OTHER_KEY [secret:literal] ${LITERAL('OTHER_KEY', 'key', '/spec/env/OTHER_KEY')}`,
    ]);
  });

  it('merges the annotation of overlays like any map, and checks it against the document of each environment', async () => {
    const overlay = path.join('environments', 'prod', 'services', 'web', 'api.yaml');
    const marked = '  annotations:\n    deployer.io/not-secret: /spec/env/TOKEN_URL\n';
    // An overlay marks the value it adds.
    const added = stackWith(micro('  port: 8080\n'), {
      [overlay]: micro('  env:\n    TOKEN_URL: https://auth.example.com/token\n', marked),
    });
    expect([...(await load(added, 'prod')).components.keys()]).toEqual(['web/api']);
    // An overlay removes the value the base marks: in that environment the entry names nothing.
    const removed = stackWith(micro('  port: 8080\n  env:\n    TOKEN_URL: https://auth.example.com/token\n', marked), {
      [overlay]: micro('  env:\n    TOKEN_URL: {$patch: delete}\n'),
    });
    expect([...(await load(removed, 'dev')).components.keys()]).toEqual(['web/api']);
    expect(await problemsOf(removed, 'prod')).toEqual([
      `${API_FILE}:6:5 MicroService/api /metadata/annotations/deployer.io~1not-secret [secret:not-secret] lists /spec/env/TOKEN_URL, which names no value of this document: remove it (a stale entry would hide a secret written there later)`,
    ]);
  });

  it("finds secrets in every kind of document: the Stack's variables, a Service, defaults", async () => {
    const infra =
      'apiVersion: infra.deployer.io/v1\nkind: InfraDefaults\nmetadata:\n  name: defaults\nspec:\n  tags:\n    deploy-token: "Zt5#qL9!wX2@pR7v"\n';
    const dir = stackDir({
      'stack.yaml': STACK.replace('greeting: hello', 'greeting: hello\n    dbPassword: "x8#Kq2!vPz9@Lm4w"'),
      'services/web/service.yaml': `${SERVICE}  annotations:\n    owner-key: AKIAIOSFODNN7EXAMPLE\n`,
      'services/web/api.yaml': micro('  port: 8080\n'),
      'infra/defaults.yaml': infra,
    });
    expect(await problemsOf(dir)).toEqual([
      `infra/defaults.yaml:7:5 InfraDefaults/defaults /spec/tags/deploy-token [secret:literal] ${LITERAL('deploy-token', 'token', '/spec/tags/deploy-token')}`,
      `${path.join('services', 'web', 'service.yaml')}:6:5 Service/web /metadata/annotations/owner-key [secret:aws-key] ${AWS_KEY}`,
      `stack.yaml:10:5 Stack/sec /spec/variables/dbPassword [secret:literal] ${LITERAL('dbPassword', 'password', '/spec/variables/dbPassword')}`,
    ]);
  });

  it('reports a secret written by an overlay in the overlay, for its environment only', async () => {
    const overlay = path.join('environments', 'prod', 'services', 'web', 'api.yaml');
    const dir = stackWith(micro('  port: 8080\n  env:\n    MODE: fast\n'), {
      [overlay]: micro('  env:\n    DB_PASSWORD: "x8#Kq2!vPz9@Lm4w"\n'),
    });
    expect([...(await load(dir, 'dev')).components.keys()]).toEqual(['web/api']);
    expect(await problemsOf(dir, 'prod')).toEqual([
      `${overlay}:7:5 MicroService/api /spec/env/DB_PASSWORD [secret:literal] ${LITERAL('DB_PASSWORD', 'password', '/spec/env/DB_PASSWORD')}`,
    ]);
  });

  it('reports a literal where the schema wants a secretRef both as a secret and as a schema problem', async () => {
    const db =
      'apiVersion: components.deployer.io/v1\nkind: RDS\nmetadata:\n  name: db\nspec:\n  engine: postgres\n  masterPassword: "x8#Kq2!vPz9@Lm4w"\n';
    const problems = await problemsOf(stackWith(micro('  port: 8080\n'), { 'services/web/db.yaml': db }));
    const dbFile = path.join('services', 'web', 'db.yaml');
    expect(problems).toContain(
      `${dbFile}:7:3 RDS/db /spec/masterPassword [secret:literal] ${LITERAL('masterPassword', 'password', '/spec/masterPassword')}`,
    );
    expect(problems.every((p) => p.startsWith(`${dbFile}:7:3 RDS/db /spec/masterPassword `))).toBe(true);
  });
});

describe('findLiteralSecrets()', () => {
  it("names the field by the nearest key (list items take their list's name) and escapes pointers", () => {
    const found = findLiteralSecrets({
      spec: {
        'tokens/api': ['Zt5#qL9!wX2@pR7v'],
        password: 'changeme',
        private_key: '${env.K}',
        nested: { 'x~token': 'Zt5#qL9!wX2@pR7v' },
        keyName: 'deploy',
      },
      note: 'AKIAIOSFODNN7EXAMPLE1',
    });
    expect(found.map((f) => `${f.pointer} ${f.rule}`)).toEqual([
      '/spec/tokens~1api/0 secret:literal',
      '/spec/password secret:literal',
      '/spec/private_key secret:env',
      '/spec/nested/x~0token secret:literal',
    ]);
  });

  it('finds an AWS key id only as a word, and a private key block of any type', () => {
    expect(findLiteralSecrets({ a: 'id=AKIAIOSFODNN7EXAMPLE;' }).map((f) => f.rule)).toEqual(['secret:aws-key']);
    expect(findLiteralSecrets({ a: 'XAKIAIOSFODNN7EXAMPLE', b: 'akiaiosfodnn7example' })).toEqual([]);
    expect(
      findLiteralSecrets(['-----BEGIN OPENSSH PRIVATE KEY-----', '-----BEGIN PRIVATE KEY-----', '-----BEGIN PUBLIC KEY-----']).map(
        (f) => f.pointer,
      ),
    ).toEqual(['/0', '/1']);
  });

  it("spares the pointers it is told are not secrets (the schema's marked fields), and a whole list by its pointer", () => {
    const value = { spec: { sortKey: 'sk', keys: ['a', 'b'], apiKey: 'k' } };
    expect(findLiteralSecrets(value, { notSecret: new Set(['/spec/sortKey', '/spec/keys']) }).map((f) => f.pointer)).toEqual([
      '/spec/apiKey',
    ]);
  });

  it('spares what the deployer.io/not-secret annotation lists, except AWS key ids and private keys, and reports entries that name nothing', () => {
    const doc = {
      metadata: {
        name: 'x',
        annotations: {
          'deployer.io/not-secret':
            '/spec/env/TOKEN_URL, /spec/env/CACHE_KEY\n/spec/env/AWS_KEY /spec/env/GONE,,spec/env/X /spec/env/TOKEN_URL/0',
        },
      },
      spec: { env: { TOKEN_URL: 'https://auth.example.com/token', CACHE_KEY: 'v1', AWS_KEY: 'AKIAIOSFODNN7EXAMPLE', OTHER_TOKEN: 'y' } },
    };
    expect(findLiteralSecrets(doc).map((f) => `${f.pointer} ${f.rule} ${f.message.split(',')[0]}`)).toEqual([
      '/metadata/annotations/deployer.io~1not-secret secret:not-secret lists /spec/env/GONE',
      '/metadata/annotations/deployer.io~1not-secret secret:not-secret lists "spec/env/X"',
      '/metadata/annotations/deployer.io~1not-secret secret:not-secret lists /spec/env/TOKEN_URL/0',
      '/spec/env/AWS_KEY secret:aws-key looks like an AWS access key id: write secrets as a secretRef',
      '/spec/env/OTHER_TOKEN secret:literal "OTHER_TOKEN" is named like a secret ("token") and holds a literal',
    ]);
  });
});

describe('secrets: the parse cache', () => {
  const cacheDirOf = (dir: string): string => path.join(dir, '.deployer', 'cache');
  /** Every file of the cache directory, as text. */
  const cacheText = (dir: string): string =>
    readdirSync(cacheDirOf(dir))
      .map((f) => readFileSync(path.join(cacheDirOf(dir), f), 'utf8'))
      .join('\n');
  const rulesOf = (problems: string[]): string[] => problems.map((p) => p.replace(/^(\S+) \S+ (\S+) \[([^\]]+)\].*$/, '$1 $2 $3'));

  it("keeps no file in which a secret was found (nor an older version's cache), finds it again, and caches the file once fixed", async () => {
    const dir = stackWith(micro('  port: 8080\n  env:\n    DB_PASSWORD: hunter2hunter2\n'));
    const apiFile = path.join(dir, API_FILE);
    // An older version's cache, which may hold what this version refuses.
    mkdirSync(cacheDirOf(dir), { recursive: true });
    writeFileSync(
      path.join(cacheDirOf(dir), 'documents-0.0.9-jsyaml4-yaml2-v1.json'),
      JSON.stringify({ entries: { old: { DB_PASSWORD: 'hunter2hunter2' } } }),
    );

    const first = await problemsOf(dir);
    expect(rulesOf(first)).toEqual([`${API_FILE}:8:5 /spec/env/DB_PASSWORD secret:literal`]);
    expect(readdirSync(cacheDirOf(dir))).toHaveLength(1);
    expect(cacheText(dir)).not.toContain('hunter2hunter2');
    // Not even its stamp: the hash of a file with a weak password in it gives the password away.
    const asJson = (file: string): string => JSON.stringify(file).slice(1, -1);
    expect(cacheText(dir)).not.toContain(asJson(apiFile));
    expect(cacheText(dir)).toContain(asJson(path.join(dir, 'services', 'web', 'service.yaml')));

    expect(await problemsOf(dir)).toEqual(first);
    expect(cacheText(dir)).not.toContain('hunter2hunter2');

    writeFileSync(apiFile, micro('  port: 8080\n  env:\n    DB_PASSWORD:\n      secretRef: {provider: env, key: DB_PASSWORD}\n'));
    await load(dir);
    expect(cacheText(dir)).toContain(asJson(apiFile));
    const cache = new DocumentCache(cacheDirOf(dir));
    await cache.load();
    const files = (await scanStackDir(dir)).base;
    expect((await loadFiles(files, (f) => path.relative(dir, f), cache)).parsed).toBe(0);
  });

  it('checks and keeps out of the cache the documents that are not merged: a duplicate, an overlay of nothing', async () => {
    const overlay = path.join('environments', 'dev', 'services', 'web', 'ghost.yaml');
    const ghost = micro('  env:\n    API_TOKEN: abc\n').replace('name: api', 'name: ghost');
    const dir = stackWith(micro('  port: 8080\n'), {
      'services/web/copy.yaml': micro('  port: 8080\n  env:\n    DB_PASS: hunter2hunter2\n'),
      [overlay]: ghost,
    });
    const problems = rulesOf(await problemsOf(dir));
    expect(problems).toContain(`${path.join('services', 'web', 'copy.yaml')}:8:5 /spec/env/DB_PASS secret:literal`);
    expect(problems).toContain(`${overlay}:7:5 /spec/env/API_TOKEN secret:literal`);
    expect(cacheText(dir)).not.toContain('hunter2hunter2');
    expect(cacheText(dir)).not.toContain('API_TOKEN');
  });

  it("keeps out of the cache a base file whose secret only another environment sees (this one's overlay deletes it)", async () => {
    const api = micro('  port: 8080\n  command: [node, server.mjs]\n  env:\n    DB_PASSWORD: hunter2hunter2\n');
    const overlay = path.join('environments', 'dev', 'services', 'web', 'api.yaml');
    const dir = stackWith(api, {
      [overlay]:
        'apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: api\nspec:\n  env:\n    DB_PASSWORD:\n      $patch: delete\n',
    });
    await load(dir).catch(() => undefined);
    expect(cacheText(dir)).not.toContain('hunter2hunter2');
  });
});

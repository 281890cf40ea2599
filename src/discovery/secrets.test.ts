/**
 * Literal secrets are errors, located where they are written: AWS access key ids and private
 * key blocks anywhere; in a field named like a password, token or key, a high-entropy literal
 * or an `${env.X}`. A secretRef (or valueFrom) is a reference, not a secret; low-entropy words
 * and placeholders are left alone (entropy below 3 bits per character, or shorter than 8).
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { problemsRaised } from '../../test/helpers/problems.js';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import type { DesiredStack } from '../model/desired.js';
import { discover } from './index.js';
import { entropy, findLiteralSecrets } from './secrets.js';

afterAll(removeTestdirs);

const stackDir = (files: Record<string, string>): string => writeStackDir(files);

function load(dir: string, environment = 'dev'): Promise<DesiredStack> {
  return discover({ dir, displayBase: dir, environment, env: { CI_TOKEN: 'from-ci' } });
}

function problemsOf(dir: string, environment = 'dev'): Promise<string[]> {
  return problemsRaised(load(dir, environment));
}

const STACK = 'apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: sec\nspec:\n  environments: [dev, prod]\n  allowEnv: [CI_TOKEN]\n  variables:\n    greeting: hello\n';
const SERVICE = 'apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: web\n';
const micro = (specLines: string, meta = ''): string => `apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: api\n${meta}spec:\n${specLines}`;
const API_FILE = path.join('services', 'web', 'api.yaml');
const LITERAL = (key: string): string => `"${key}" holds what looks like a secret: write it as {secretRef: {provider, key}}`;
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
      `${API_FILE}:11:5 MicroService/api /spec/env/DB_PASSWORD [secret:literal] ${LITERAL('DB_PASSWORD')}`,
      `${API_FILE}:12:5 MicroService/api /spec/env/API_TOKEN [secret:env] "API_TOKEN" takes a secret from \${env...}, which would write its value into the state: use {secretRef: {provider, key}}`,
      `${API_FILE}:13:5 MicroService/api /spec/env/apiKey [secret:literal] ${LITERAL('apiKey')}`,
      `${API_FILE}:14:5 MicroService/api /spec/env/TLS_KEY [secret:private-key] ${PRIVATE_KEY}`,
    ]);
  });

  it('accepts secretRef and valueFrom, low-entropy words and short values in secret-named fields', async () => {
    const api = micro(`  port: 8080
  env:
    SESSION_SECRET:
      secretRef: {provider: env, key: SESSION_SECRET}
    UPSTREAM_TOKEN:
      valueFrom: {component: web/auth, output: token}
    ADMIN_PASSWORD: changeme
    DB_PASSWORD: hunter22
    SHORT_TOKEN: "aB3$xY"
    GREETING: \${var.greeting}
    BUILD_ID: "x8#Kq2!vPz9@Lm4w"
`);
    const auth = 'apiVersion: components.deployer.io/v1\nkind: Worker\nmetadata:\n  name: auth\nspec:\n  image: example/auth:1\n';
    const stack = await load(stackWith(api, { 'services/web/auth.yaml': auth }));
    expect(Object.keys(stack.components.get('web/api')!.spec['env'] as object)).toEqual(['SESSION_SECRET', 'UPSTREAM_TOKEN', 'ADMIN_PASSWORD', 'DB_PASSWORD', 'SHORT_TOKEN', 'GREETING', 'BUILD_ID']);
  });

  it('refuses ${var.x} in a secret-named field: the value would be written into the state', async () => {
    const api = micro('  port: 8080\n  env:\n    GREETING_TOKEN: ${var.greeting}\n');
    expect(await problemsOf(stackWith(api))).toEqual([
      `${API_FILE}:8:5 MicroService/api /spec/env/GREETING_TOKEN [secret:var] "GREETING_TOKEN" takes a secret from \${var...}, which would write its value into the state: use {secretRef: {provider, key}}`,
    ]);
  });

  it('finds secrets in every kind of document: the Stack\'s variables, a Service, defaults', async () => {
    const infra = 'apiVersion: infra.deployer.io/v1\nkind: InfraDefaults\nmetadata:\n  name: defaults\nspec:\n  tags:\n    deploy-token: "Zt5#qL9!wX2@pR7v"\n';
    const dir = stackDir({
      'stack.yaml': STACK.replace('greeting: hello', 'greeting: hello\n    dbPassword: "x8#Kq2!vPz9@Lm4w"'),
      'services/web/service.yaml': `${SERVICE}  annotations:\n    owner-key: AKIAIOSFODNN7EXAMPLE\n`,
      'services/web/api.yaml': micro('  port: 8080\n'),
      'infra/defaults.yaml': infra,
    });
    expect(await problemsOf(dir)).toEqual([
      `infra/defaults.yaml:7:5 InfraDefaults/defaults /spec/tags/deploy-token [secret:literal] ${LITERAL('deploy-token')}`,
      `${path.join('services', 'web', 'service.yaml')}:6:5 Service/web /metadata/annotations/owner-key [secret:aws-key] ${AWS_KEY}`,
      `stack.yaml:10:5 Stack/sec /spec/variables/dbPassword [secret:literal] ${LITERAL('dbPassword')}`,
    ]);
  });

  it('reports a secret written by an overlay in the overlay, for its environment only', async () => {
    const overlay = path.join('environments', 'prod', 'services', 'web', 'api.yaml');
    const dir = stackWith(micro('  port: 8080\n  env:\n    MODE: fast\n'), { [overlay]: micro('  env:\n    DB_PASSWORD: "x8#Kq2!vPz9@Lm4w"\n') });
    expect([...(await load(dir, 'dev')).components.keys()]).toEqual(['web/api']);
    expect(await problemsOf(dir, 'prod')).toEqual([`${overlay}:7:5 MicroService/api /spec/env/DB_PASSWORD [secret:literal] ${LITERAL('DB_PASSWORD')}`]);
  });

  it('reports a literal where the schema wants a secretRef both as a secret and as a schema problem', async () => {
    const db = 'apiVersion: components.deployer.io/v1\nkind: RDS\nmetadata:\n  name: db\nspec:\n  engine: postgres\n  masterPassword: "x8#Kq2!vPz9@Lm4w"\n';
    const problems = await problemsOf(stackWith(micro('  port: 8080\n'), { 'services/web/db.yaml': db }));
    const dbFile = path.join('services', 'web', 'db.yaml');
    expect(problems).toContain(`${dbFile}:7:3 RDS/db /spec/masterPassword [secret:literal] ${LITERAL('masterPassword')}`);
    expect(problems.every((p) => p.startsWith(`${dbFile}:7:3 RDS/db /spec/masterPassword `))).toBe(true);
  });
});

describe('findLiteralSecrets() and entropy()', () => {
  it('measures entropy in bits per character', () => {
    expect(entropy('aaaa')).toBe(0);
    expect(entropy('abcd')).toBe(2);
    expect(entropy('changeme')).toBeLessThan(3);
    expect(entropy('x8#Kq2!vPz9@Lm4w')).toBe(4);
  });

  it('names the field by the nearest key (list items take their list\'s name) and escapes pointers', () => {
    const found = findLiteralSecrets({
      spec: { 'tokens/api': ['Zt5#qL9!wX2@pR7v'], password: 'changeme', private_key: '${env.K}', nested: { 'x~token': 'Zt5#qL9!wX2@pR7v' } },
      note: 'AKIAIOSFODNN7EXAMPLE1',
    });
    expect(found.map((f) => `${f.pointer} ${f.rule}`)).toEqual(['/spec/tokens~1api/0 secret:literal', '/spec/private_key secret:env', '/spec/nested/x~0token secret:literal']);
  });

  it('finds an AWS key id only as a word, and a private key block of any type', () => {
    expect(findLiteralSecrets({ a: 'id=AKIAIOSFODNN7EXAMPLE;' }).map((f) => f.rule)).toEqual(['secret:aws-key']);
    expect(findLiteralSecrets({ a: 'XAKIAIOSFODNN7EXAMPLE', b: 'akiaiosfodnn7example' })).toEqual([]);
    expect(findLiteralSecrets(['-----BEGIN OPENSSH PRIVATE KEY-----', '-----BEGIN PRIVATE KEY-----', '-----BEGIN PUBLIC KEY-----']).map((f) => f.pointer)).toEqual(['/0', '/1']);
  });
});

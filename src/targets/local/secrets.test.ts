import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DesiredComponent } from '../../model/desired.js';
import { LocalTarget } from './index.js';
import { resolveLocalSecret } from './secrets.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('local secrets', () => {
  it('reads env and file references; a missing one names the reference, never a value', () => {
    expect(resolveLocalSecret('web/api', 'TOKEN', { provider: 'env', key: 'X_TOKEN' }, dir, { X_TOKEN: 's3cr3t' })).toBe('s3cr3t');
    writeFileSync(path.join(dir, 'db-password'), 'hunter2\n');
    expect(resolveLocalSecret('web/api', 'DB', { provider: 'file', key: 'db-password' }, dir)).toBe('hunter2');
    expect(() => resolveLocalSecret('web/api', 'TOKEN', { provider: 'env', key: 'NOPE' }, dir, {})).toThrow(
      'web/api: env TOKEN refers to the environment variable NOPE, which is not set',
    );
    expect(() => resolveLocalSecret('web/api', 'DB', { provider: 'file', key: 'missing' }, dir)).toThrow(
      /secret file .*missing, which cannot be read \(ENOENT\)/,
    );
  });

  it('the local target refuses AWS Secrets Manager references at validation', () => {
    const c = {
      id: 'web/api',
      service: 'web',
      name: 'api',
      kind: 'MicroService',
      target: 'local',
      spec: { port: 1, command: ['x'], env: { A: { secretRef: { provider: 'aws-secretsmanager', key: 'prod/a' } } } },
      dependsOn: [],
      references: [],
      baseDir: dir,
      source: { file: path.join(dir, 'api.yaml'), display: 'api.yaml', docIndex: 0 },
      specHash: '',
    } satisfies DesiredComponent;
    const problems = new LocalTarget().check(c);
    expect(problems).toMatchObject([{ pointer: '/spec/env/A/secretRef/provider', rule: 'target:local' }]);
    expect(() =>
      new LocalTarget().program(
        { ...c, spec: { ...c.spec, env: { A: { secretRef: { provider: 'env', key: 'UNSET_FOR_TEST' } } } } },
        { env: { A: { secretRef: { provider: 'env', key: 'UNSET_FOR_TEST' } } } },
        { stack: 's', environment: 'e', stackDir: dir },
      ),
    ).toThrow(/UNSET_FOR_TEST, which is not set/);
  });
});

/**
 * Secrets for the `local` target: `secretRef` values resolved at apply time, from an
 * environment variable (`provider: env`) or a file (`provider: file`, relative to the YAML
 * file's directory). The value goes to the process and, marked secret, to Pulumi (which
 * encrypts it in its checkpoint); it never reaches deployer's state, plan, logs or ledger.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DeployerError } from '../../errors.js';
import type { DesiredComponent } from '../../model/desired.js';
import type { TargetFinding } from '../target.js';

export interface SecretRef {
  provider: 'aws-secretsmanager' | 'env' | 'file';
  key: string;
}

export function isSecretRef(v: unknown): v is { secretRef: SecretRef } {
  return typeof v === 'object' && v !== null && 'secretRef' in v;
}

/** Providers the local target cannot reach are a configuration error, found before any work. */
export function checkLocalSecrets(c: DesiredComponent): TargetFinding[] {
  const env = (c.spec['env'] ?? {}) as Record<string, unknown>;
  return Object.entries(env)
    .filter(([, v]) => isSecretRef(v) && v.secretRef.provider === 'aws-secretsmanager')
    .map(([k]) => ({
      pointer: `/spec/env/${k}/secretRef/provider`,
      message:
        'the local target cannot read AWS Secrets Manager: use provider env or file for local runs (an environment overlay can switch it)',
      rule: 'target:local',
    }));
}

/** The secret's value; a missing variable or file fails the component with the reference named, not the value. */
export function resolveLocalSecret(
  component: string,
  name: string,
  ref: SecretRef,
  baseDir: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (ref.provider === 'env') {
    const value = env[ref.key];
    if (value === undefined)
      throw new DeployerError('APPLY_FAILED', `${component}: env ${name} refers to the environment variable ${ref.key}, which is not set`);
    return value;
  }
  if (ref.provider === 'file') {
    const file = path.resolve(baseDir, ref.key);
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new DeployerError(
        'APPLY_FAILED',
        `${component}: env ${name} refers to the secret file ${file}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  throw new DeployerError('APPLY_FAILED', `${component}: the local target cannot read secrets from ${ref.provider}`);
}

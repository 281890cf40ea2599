/**
 * Secrets on the aws target: a `secretRef` names a secret in AWS Secrets Manager (its name or
 * ARN, optionally `#jsonKey`). Its value never passes through deployer or Pulumi: an ECS task
 * is given the secret's ARN (`secrets[].valueFrom`), which ECS resolves when the task starts,
 * and the component's execution role may read exactly those secrets. Only the ARN is looked up
 * (by name, at deploy time, which also fails a deployment whose secret does not exist).
 */
import type { Output } from '@pulumi/pulumi';
import type { AwsScope } from './scope.js';

export interface SecretRef {
  secretRef: { provider: string; key: string };
}

export function isSecretRef(v: unknown): v is SecretRef {
  return typeof v === 'object' && v !== null && 'secretRef' in v;
}

/** One environment variable a task reads from Secrets Manager. */
export interface TaskSecret {
  name: string;
  /** The secret's ARN, with `:jsonKey::` when only one key of a JSON secret is meant (ECS's form). */
  valueFrom: Output<string>;
  /** The secret's own ARN (what the execution role may read). */
  arn: Output<string>;
}

/** The ARN of the secret a secretRef names (its key, without `#jsonKey`), looked up by name at deploy time. */
export function secretArn(scope: AwsScope, ref: SecretRef): Output<string> {
  const key = ref.secretRef.key.split('#')[0]!;
  return key.startsWith('arn:')
    ? scope.pulumi.output(key)
    : scope.aws.secretsmanager.getSecretOutput({ name: key }, { provider: scope.provider }).arn;
}

/** A component's env split into plain values and secrets (looked up by name in Secrets Manager). */
export function splitEnv(scope: AwsScope, env: Record<string, unknown> = {}): { plain: Record<string, string>; secrets: TaskSecret[] } {
  const plain: Record<string, string> = {};
  const secrets: TaskSecret[] = [];
  for (const [name, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (!isSecretRef(value)) {
      plain[name] = typeof value === 'string' ? value : JSON.stringify(value);
      continue;
    }
    const jsonKey = value.secretRef.key.split('#')[1];
    const arn = secretArn(scope, value);
    secrets.push({ name, arn, valueFrom: jsonKey ? arn.apply((a) => `${a}:${jsonKey}::`) : arn });
  }
  return { plain, secrets };
}

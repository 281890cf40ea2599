/**
 * bootstrap/: creating what a team's shared setup needs before its first run — the S3 bucket
 * of the state and the DynamoDB table of the locks. With Pulumi (@pulumi/aws, the program in
 * program.ts) against AWS; through the AWS SDK (sdk.ts) against S3 clones and emulators,
 * where Pulumi's AWS provider has no endpoint to talk to.
 */
import path from 'node:path';
import { createEngine, ensurePulumiCli, resolvePassphrase } from '../engine/index.js';
import { InvalidInputError } from '../errors.js';
import { parseDynamoDbUrl } from '../lock/dynamodb.js';
import { parseS3Url } from '../state/s3.js';
import type { StepResult } from './sdk.js';

export type BootstrapEngine = 'pulumi' | 'sdk';

export interface BootstrapOptions {
  stateUrl: string;
  lockUrl: string;
  /** Default: `sdk` when either URL names an endpoint, else `pulumi`. */
  engine?: BootstrapEngine;
  /** Where the bootstrap's own Pulumi state is kept (it cannot live in the bucket it creates). */
  workDir: string;
  onProgress?: (message: string) => void;
}

export interface BootstrapResult {
  engine: BootstrapEngine;
  steps: StepResult[];
}

export async function bootstrap(o: BootstrapOptions): Promise<BootstrapResult> {
  if (!o.stateUrl.startsWith('s3://'))
    throw new InvalidInputError(`bootstrap needs an s3:// state URL, got ${o.stateUrl}`, [
      'e.g. --state-url s3://my-team-deployer-state/prod?region=eu-west-1',
    ]);
  if (!o.lockUrl.startsWith('dynamodb://'))
    throw new InvalidInputError(`bootstrap needs a dynamodb:// lock URL, got ${o.lockUrl}`, [
      'e.g. --lock-url dynamodb://deployer-state-locks?region=eu-west-1',
    ]);
  const s3 = parseS3Url(o.stateUrl);
  const table = parseDynamoDbUrl(o.lockUrl);
  const engine = o.engine ?? (s3.endpoint || table.endpoint ? 'sdk' : 'pulumi');
  if (engine === 'sdk') {
    const { bootstrapBucket, bootstrapTable } = await import('./sdk.js');
    return { engine, steps: [...(await bootstrapBucket(s3)), ...(await bootstrapTable(table))] };
  }

  const { bootstrapProgram } = await import('./program.js');
  const stateDir = path.join(o.workDir, '.deployer', 'bootstrap');
  const runner = await createEngine({
    cli: await ensurePulumiCli({ ...(o.onProgress ? { onProgress: o.onProgress } : {}) }),
    backendUrl: `file://${stateDir}`,
    workRoot: path.join(stateDir, 'workspaces'),
    passphrase: await resolvePassphrase(stateDir),
    env: { AWS_REGION: s3.region },
  });
  const result = await runner.up({
    stackName: `bootstrap.${s3.bucket}`,
    program: async () =>
      bootstrapProgram({ bucket: s3.bucket, table: table.table, region: s3.region, ...(s3.kmsKeyId ? { kmsKeyId: s3.kmsKeyId } : {}) }),
    onProgress: (p) => p.phase === 'done' && o.onProgress?.(`${p.op} ${p.resourceType} ${p.resourceName}`),
  });
  return {
    engine,
    steps: Object.entries(result.changes).map(([op, n]) => ({
      step: `${n} resource(s)`,
      status: op === 'create' ? 'created' : op === 'same' ? 'exists' : 'configured',
    })),
  };
}

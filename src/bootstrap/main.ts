/**
 * Entry point named by Pulumi.yaml, for running the bootstrap program with the Pulumi CLI
 * itself (`pulumi up` with config `deployer:bucket`, `deployer:table`, `aws:region`).
 * `deployer bootstrap` runs the same program inline.
 */
import * as pulumi from '@pulumi/pulumi';
import { bootstrapProgram } from './program.js';

const config = new pulumi.Config('deployer');
const kmsKeyId = config.get('kmsKeyId');
export const outputs = bootstrapProgram({
  bucket: config.require('bucket'),
  table: config.get('table') ?? 'deployer-state-locks',
  region: new pulumi.Config('aws').require('region'),
  ...(kmsKeyId ? { kmsKeyId } : {}),
});

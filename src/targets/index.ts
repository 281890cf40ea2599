/**
 * targets/: translating a component into Pulumi resources for a platform. `local` runs real
 * processes and directories; `aws` (with @pulumi/aws) arrives with the AWS translation work.
 */
import { InvalidInputError } from '../errors.js';
import type { TargetName } from '../model/desired.js';
import { LocalTarget } from './local/index.js';
import type { Target } from './target.js';

export type { Target, TargetContext } from './target.js';

export function targetFor(name: TargetName): Target {
  if (name === 'local') return new LocalTarget();
  throw new InvalidInputError(`target "${name}" is not available yet in this version of deployer`, ['use target: local']);
}

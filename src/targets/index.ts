/**
 * targets/: translating a component into Pulumi resources for a platform. `local` runs real
 * processes and directories; `aws` validates and plans (its translation to @pulumi/aws comes next).
 */
import { InvalidInputError } from '../errors.js';
import type { TargetName } from '../model/desired.js';
import { AwsTarget } from './aws/index.js';
import { LocalTarget } from './local/index.js';
import type { Target } from './target.js';

export type {
  DeployedRef,
  DescribedResources,
  PreflightOptions,
  ReplicaStatus,
  RolloutReport,
  ServiceState,
  ServiceStatus,
  Target,
  TargetContext,
  TargetFinding,
} from './target.js';

export function targetFor(name: TargetName): Target {
  if (name === 'local') return new LocalTarget();
  if (name === 'aws') return new AwsTarget();
  throw new InvalidInputError(`unknown target "${name}"`, ['use target: local or aws']);
}

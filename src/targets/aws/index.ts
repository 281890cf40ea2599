/**
 * The `aws` target. Today it validates what AWS needs beyond the schemas (a container image to
 * run, no local-only settings) so that `validate` and `plan` work on AWS stacks; translating
 * components into @pulumi/aws resources, and so `apply`, comes with the AWS translation work.
 */
import { DeployerError } from '../../errors.js';
import type { DesiredComponent } from '../../model/desired.js';
import type { Target, TargetFinding } from '../target.js';

/** Kinds that run a container image. */
const CONTAINER_KINDS = new Set(['MicroService', 'Worker', 'CronJob']);

export class AwsTarget implements Target {
  readonly name = 'aws' as const;
  readonly canApply = false;
  readonly volatileOutputs: readonly string[] = [];

  check(c: DesiredComponent): TargetFinding[] {
    const problems: TargetFinding[] = [];
    if (CONTAINER_KINDS.has(c.kind) && typeof c.spec['image'] !== 'string') {
      problems.push({
        pointer: '/spec/image',
        message: `the aws target runs ${c.kind} from a container image: set spec.image`,
        rule: 'target:aws',
      });
    }
    return problems;
  }

  engineEnv(): Record<string, string> {
    return {};
  }

  program(c: DesiredComponent): never {
    throw new DeployerError(
      'INVALID_INPUT',
      `the aws target cannot deploy ${c.id} yet: translating components to AWS resources is not built in this version`,
    );
  }
}

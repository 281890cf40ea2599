/** ElastiCacheRedis on AWS: not translated yet (placeholder while the translation is written). */
import { DeployerError } from '../../../errors.js';
import type { AwsScope, Outputs } from '../scope.js';

export function translateElastiCacheRedis(scope: AwsScope): Outputs {
  throw new DeployerError('INVALID_INPUT', `the aws target cannot deploy ElastiCacheRedis (${scope.id}) yet`);
}

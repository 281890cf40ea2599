/**
 * Which translation makes each kind on AWS, loaded when a component of that kind is deployed
 * (a translation imports only the @pulumi/aws modules it uses). One file per kind.
 */
import type { DeployedKind } from '../../../model/documents.js';
import type { AwsScope, Outputs } from '../scope.js';

/** A kind's translation: its resources made in the scope, its outputs returned. */
export type Translate = (scope: AwsScope) => Outputs | Promise<Outputs>;

export const TRANSLATIONS: Partial<Record<DeployedKind, () => Promise<Translate>>> = {
  Platform: async () => (await import('./platform.js')).translatePlatform,
  S3: async () => (await import('./s3.js')).translateS3,
  SQS: async () => (await import('./sqs.js')).translateSQS,
};

/** Shared AWS SDK setup: clients for S3 clones and emulators, and a quiet SDK on Node 20. */
import { S3Client } from '@aws-sdk/client-s3';

/**
 * The AWS SDK warns on every process under Node 22 that future releases will need Node 22;
 * deployer supports Node 20.19+, pins the SDK, and says so in its README, so the warning would
 * only be noise in every command's output.
 */
export function quietAwsSdk(): void {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
}

export interface S3Endpoint {
  region: string;
  /** A custom endpoint (an S3 clone, or s3rver in tests). */
  endpoint?: string;
  forcePathStyle: boolean;
}

export function s3Client(loc: S3Endpoint): S3Client {
  quietAwsSdk();
  return new S3Client({ region: loc.region, forcePathStyle: loc.forcePathStyle, ...(loc.endpoint ? { endpoint: loc.endpoint } : {}) });
}

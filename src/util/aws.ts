/**
 * The AWS SDK warns on every process under Node 22 that future releases will need Node 22;
 * deployer supports Node 20.19+, pins the SDK, and says so in its README, so the warning would
 * only be noise in every command's output.
 */
export function quietAwsSdk(): void {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
}

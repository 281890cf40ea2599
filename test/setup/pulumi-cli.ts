// Global test setup: the same provisioning a user's `deployer setup` runs. When no Pulumi CLI
// is installed or cached, this builds it from Go modules (minutes, once); it never skips.
import { ensurePulumiCli } from '../../src/engine/index.js';

export default async function setup(): Promise<void> {
  const started = Date.now();
  const cli = await ensurePulumiCli({ onProgress: (m) => process.stderr.write(`[pulumi setup] ${m}\n`) });
  process.stderr.write(`[pulumi setup] using ${cli.binary} (${cli.version}, from ${cli.source}, ${((Date.now() - started) / 1000).toFixed(1)}s)\n`);
}

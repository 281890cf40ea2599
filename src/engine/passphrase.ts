/**
 * The passphrase of Pulumi's passphrase secrets provider: `PULUMI_CONFIG_PASSPHRASE` when set,
 * else a random one generated once per state directory and kept there (mode 0600), so that a
 * laptop user never has to invent one and every run over the same state uses the same.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export async function resolvePassphrase(stateDir: string): Promise<string> {
  const fromEnv = process.env['PULUMI_CONFIG_PASSPHRASE'];
  if (fromEnv !== undefined) return fromEnv;
  const file = path.join(stateDir, 'pulumi-passphrase');
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await fs.mkdir(stateDir, { recursive: true });
  const generated = randomBytes(24).toString('base64url');
  try {
    await fs.writeFile(file, generated + '\n', { mode: 0o600, flag: 'wx' });
    return generated;
  } catch (err) {
    // Another process generated it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return (await fs.readFile(file, 'utf8')).trim();
    throw err;
  }
}

/**
 * The provider plugins a target's programs need (the aws target: Pulumi's AWS provider), asked
 * of the Pulumi CLI before a run takes its lock: a run that would fail in its first operation
 * for want of a plugin is refused at once, naming the command that installs it, with nothing
 * written, locked or recorded (rather than every component failing and being rolled back).
 */
import type { PulumiCli } from './pulumi-cli.js';

/** A plugin a target needs: `resource aws 7.48.0`. */
export interface PluginNeed {
  kind: string;
  name: string;
  version: string;
}

const bare = (version: string): string => version.replace(/^v/, '');

/**
 * The plugins of `wanted` that `pulumi plugin ls` does not list (in `env`'s PULUMI_HOME). When
 * the CLI cannot say, none: Pulumi itself reports a missing plugin when it needs it.
 */
export async function missingPlugins(
  cli: PulumiCli,
  wanted: readonly PluginNeed[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<PluginNeed[]> {
  if (wanted.length === 0) return [];
  const { execa } = await import('execa');
  const listed = await execa(cli.binary, ['plugin', 'ls', '--json'], { env, reject: false });
  if (listed.exitCode !== 0) return [];
  let installed: Array<{ name?: string; kind?: string; version?: string }>;
  try {
    installed = JSON.parse(String(listed.stdout)) as typeof installed;
  } catch {
    return [];
  }
  return wanted.filter(
    (w) => !installed.some((p) => p.name === w.name && p.kind === w.kind && bare(String(p.version)) === bare(w.version)),
  );
}

/** The command that installs a plugin. */
export const installCommand = (p: PluginNeed): string => `pulumi plugin install ${p.kind} ${p.name} v${bare(p.version)}`;

/**
 * Pulumi in a session of its own. A terminal's Ctrl-C goes to every process of its foreground
 * process group; a `pulumi` started there would cancel its update at the first Ctrl-C, when
 * deployer promises to let running components finish. So deployer starts pulumi through a
 * one-line launcher that puts it in a new session (setsid(1), then exec: the same pid, so the
 * Automation API still signals pulumi itself when deployer decides to cancel), and marks it
 * and everything it starts (its plugins, the dynamic providers) with the run's id, so the run
 * that takes over after a crash can find and stop what the dead run left behind.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { findOnPath } from '../util/process.js';

/** The variable marking the processes of a run (read from /proc/<pid>/environ by leftovers.ts). */
export const RUN_MARKER = 'DEPLOYER_RUN_ID';

/** setsid(1) from util-linux, when this machine has it. */
function setsidBinary(): string | undefined {
  return findOnPath('setsid', { extraDirs: ['/usr/bin', '/bin'] });
}

/**
 * A directory holding `bin/pulumi` that runs `binary` in a new session (what PulumiCommand.get
 * wants as its root). Without setsid(1) (not Linux), the real CLI's own root is returned.
 */
export async function sessionRoot(binary: string, realRoot: string, dir: string): Promise<string> {
  const setsid = setsidBinary();
  if (!setsid) return realRoot;
  const launcher = path.join(dir, 'bin', 'pulumi');
  const text = `#!/bin/sh\n# Written by deployer: pulumi in its own session, so that only deployer decides when it is interrupted.\nexec ${quote(setsid)} ${quote(binary)} "$@"\n`;
  const current = await fs.readFile(launcher, 'utf8').catch(() => undefined);
  if (current !== text) await writeFileAtomic(launcher, text, 0o755);
  return dir;
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

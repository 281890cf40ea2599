/** The provider plugins a target needs, asked of the Pulumi CLI (plugins.ts), with a CLI that answers as Pulumi's does. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { installCommand, missingPlugins } from './plugins.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fake-pulumi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A `pulumi` that prints `stdout` for `plugin ls --json` and exits with `code`. */
function fakeCli(stdout: string, code = 0): { binary: string; root: string; version: string; source: 'PATH' } {
  const binary = path.join(dir, `pulumi-${Math.random().toString(36).slice(2)}`);
  writeFileSync(binary, `#!/bin/sh\n[ "$1 $2 $3" = "plugin ls --json" ] || exit 9\ncat <<'EOF'\n${stdout}\nEOF\nexit ${code}\n`);
  chmodSync(binary, 0o755);
  return { binary, root: dir, version: '3.259.0', source: 'PATH' };
}

const aws = { kind: 'resource', name: 'aws', version: '7.48.0' };

describe('missingPlugins', () => {
  it('finds a plugin listed at the same version (with or without its v), and misses one at another version', async () => {
    expect(await missingPlugins(fakeCli('[{"name":"aws","kind":"resource","version":"v7.48.0"}]'), [aws])).toEqual([]);
    expect(await missingPlugins(fakeCli('[{"name":"aws","kind":"resource","version":"7.40.0"}]'), [aws])).toEqual([aws]);
    expect(await missingPlugins(fakeCli('[]'), [aws])).toEqual([aws]);
  });

  it('leaves it to Pulumi when the CLI cannot say', async () => {
    expect(await missingPlugins(fakeCli('not json'), [aws])).toEqual([]);
    expect(await missingPlugins(fakeCli('[]', 1), [aws])).toEqual([]);
    expect(await missingPlugins(fakeCli('[]'), [])).toEqual([]);
  });

  it('names the command that installs it', () => {
    expect(installCommand(aws)).toBe('pulumi plugin install resource aws v7.48.0');
  });
});

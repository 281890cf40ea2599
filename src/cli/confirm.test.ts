/** Confirmation at a terminal: only "yes" approves (as Terraform asks); anything else changes nothing. */
import { PassThrough } from 'node:stream';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTestdirs, snapshotTree, testdir } from '../../test/helpers/testdir.js';
import { confirmYes, type CliIO } from './io.js';
import { runCli } from './main.js';

afterAll(() => removeTestdirs());

/** A terminal whose user types `answer`. */
function terminal(answer: string | undefined): CliIO & { out: () => string } {
  let out = '';
  const stdin = answer === undefined ? undefined : new PassThrough();
  if (stdin) stdin.end(`${answer}\n`);
  // A stream, as readline wants one to write its prompt to.
  const sink = new PassThrough();
  sink.on('data', (d: Buffer) => (out += d.toString('utf8')));
  return { stdout: sink, stderr: sink, ...(stdin ? { stdin } : {}), interactive: true, env: process.env, out: () => out };
}

describe('confirmation', () => {
  it('accepts "yes" only', async () => {
    expect(await confirmYes(terminal('yes'), 'Go?')).toBe(true);
    expect(await confirmYes(terminal('  yes '), 'Go?')).toBe(true);
    expect(await confirmYes(terminal('y'), 'Go?')).toBe(false);
    expect(await confirmYes(terminal('no'), 'Go?')).toBe(false);
    expect(await confirmYes(terminal(undefined), 'Go?')).toBe(false);
    const io = terminal('no');
    await confirmYes(io, 'Do you want to apply these changes?');
    expect(io.out()).toMatch(/Do you want to apply these changes\?\n {2}Only 'yes' will be accepted to approve\.\n\n {2}Enter a value: /);
  });

  it('an apply declined at the terminal shows the plan, changes nothing, and exits 1', async () => {
    const dir = testdir('buckets');
    const io = terminal('no');
    const code = await runCli(['apply', '-C', dir, '-e', 'dev'], io);
    expect(code).toBe(1);
    expect(io.out()).toMatch(
      /\+ +create +store\/images[\s\S]*Do you want to apply these changes\?[\s\S]*Apply cancelled: nothing was changed\./,
    );
    expect(Object.keys(snapshotTree(path.join(dir, '.deployer'))).filter((f) => f.includes('stacks'))).toEqual([]);
  });

  it('a multi-region apply shows the plan of every region, asks once, and declined changes nothing in any region', async () => {
    const dir = testdir('regions', { PORT_EU: '1', PORT_US: '2' });
    const io = terminal('no');
    const code = await runCli(['apply', '-C', dir, '-e', 'prod'], io);
    expect(code).toBe(1);
    const out = io.out();
    expect(out).toMatch(/environment prod\/eu-west-1[\s\S]*create +web\/api[\s\S]*environment prod\/us-east-1[\s\S]*create +web\/api/);
    expect(out.match(/Do you want to apply these changes to 2 regions\?/g)).toHaveLength(1);
    expect(out).toMatch(/Apply cancelled: nothing was changed\./);
    expect(Object.keys(snapshotTree(path.join(dir, '.deployer'))).filter((f) => f.includes('stacks'))).toEqual([]);
  });
});

/**
 * Help and usage, run in process as a user types them: the help lists every command (each
 * command's module loads only when it runs), the command is found past global options, and
 * no command, an unknown one or an unknown option exits 2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { deployer } from '../../test/helpers/cli.js';
import { removeTestdirs, testdir } from '../../test/helpers/testdir.js';
import { commandNamed } from './main.js';

let dir: string;

beforeAll(() => {
  dir = testdir('examples/quickstart');
});
afterAll(() => removeTestdirs());

describe('help and usage', () => {
  it('--help explains the commands, the layout and the exit codes', async () => {
    const r = await deployer(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Commands:[\s\S]*apply[\s\S]*destroy[\s\S]*lock/);
    expect(r.stdout).toMatch(/3 {2}the lock is held by another run/);
    expect(r.stdout).toMatch(/services\/<svc>\/service.yaml/);
    // Each command's module is loaded only when it runs; the help still lists every one, in order.
    const listed = [...r.stdout.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]);
    const commands = [
      'setup',
      'plan',
      'validate',
      'apply',
      'destroy',
      'rollback',
      'graph',
      'lock',
      'state',
      'ledger',
      'restart',
      'drift',
      'reconcile',
      'bootstrap',
      'help',
    ];
    expect(listed.filter((w) => commands.includes(w!))).toEqual(commands);
  });

  it('finds the command past global options and their values, whatever they are called', async () => {
    const program = new Command().option('-C, --dir <dir>').option('-e, --environment <env>').option('--json');
    expect(commandNamed(program, ['-C', 'plan', '-e', 'apply', '--json', 'graph', 'x'])).toBe('graph');
    expect(commandNamed(program, ['--dir=plan', '-eapply', 'state'])).toBe('state');
    expect(commandNamed(program, ['--json'])).toBeUndefined();
    expect(commandNamed(program, ['--', 'lock'])).toBe('lock');
    // As a user types it: the directory before the command.
    const r = await deployer(['-C', dir, 'validate', '-e', 'dev']);
    expect(r.code).toBe(0);
  });

  it('no command prints help and exits 2; an unknown command or option exits 2', async () => {
    expect((await deployer([])).code).toBe(2);
    const unknown = await deployer(['deploy']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'deploy'/);
    expect((await deployer(['plan', '--frobnicate'])).code).toBe(2);
  });
});

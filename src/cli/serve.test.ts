/**
 * `deployer token` and `deployer serve` as a user runs them: tokens created, listed (never a
 * secret) and revoked; a server that will not start unprotected; and a real server process that
 * answers on loopback, authenticates, and stops cleanly on SIGTERM.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deployer, deployerJson, spawnDeployer } from '../../test/helpers/cli.js';
import { removeTestdirs, testdir } from '../../test/helpers/testdir.js';

afterAll(() => removeTestdirs());

describe('deployer token', () => {
  it('creates a token whose secret is shown once, lists it without the secret, and revokes it', async () => {
    const dir = testdir('examples/quickstart');
    const ledger = path.join(dir, 'ledger.db');
    const created = await deployerJson<{ token: { id: string; role: string }; secret: string }>([
      'token',
      'create',
      '--role',
      'deployer',
      '--name',
      'ci',
      '--expires',
      '30d',
      '--ledger',
      ledger,
    ]);
    expect(created.code).toBe(0);
    expect(created.json.secret).toMatch(/^dpl_/);
    const listed = await deployer(['token', 'list', '--ledger', ledger]);
    expect(listed.stdout).toContain(`${created.json.token.id}  deployer  ci`);
    expect(listed.stdout).toContain('valid');
    expect(listed.stdout).not.toContain(created.json.secret);
    expect((await deployer(['token', 'revoke', created.json.token.id, '--ledger', ledger])).stdout).toBe(
      `Revoked ${created.json.token.id}.\n`,
    );
    expect((await deployer(['token', 'list', '--ledger', ledger])).stdout).toContain('was revoked');
    const unknown = await deployer(['token', 'revoke', 'tok_nope', '--ledger', ledger]);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('no token tok_nope')]);
    const badRole = await deployer(['token', 'create', '--role', 'root', '--name', 'x', '--ledger', ledger]);
    expect([badRole.code, badRole.stderr]).toEqual([2, expect.stringContaining('--role root is not a role')]);
  });
});

describe('deployer serve', () => {
  it('will not start without authentication, nor without it beyond loopback, and changes nothing', async () => {
    const dir = testdir('examples/quickstart');
    const ledger = path.join(dir, 'ledger.db');
    const unprotected = await deployer(['serve', '-C', dir, '--ledger', ledger, '--port', '0']);
    expect(unprotected.code).toBe(2);
    expect(unprotected.stderr).toContain('deployer serve will not start without authentication');
    expect(unprotected.stderr).toContain('deployer token create --role admin');
    const wide = await deployer(['serve', '-C', dir, '--insecure-local', '--host', '0.0.0.0', '--port', '0']);
    expect([wide.code, wide.stderr]).toEqual([2, expect.stringContaining('only on loopback: not on 0.0.0.0')]);
    const notStack = await deployer(['serve', '--stack-dir', path.join(dir, 'services'), '--insecure-local', '--port', '0']);
    expect([notStack.code, notStack.stderr]).toEqual([2, expect.stringContaining('stack.yaml cannot be read')]);
    const badPort = await deployer(['serve', '-C', dir, '--insecure-local', '--port', 'http']);
    expect([badPort.code, badPort.stderr]).toEqual([2, expect.stringContaining('--port http is not a port number')]);
  });

  it('serves on loopback as a process of its own, authenticates, and stops on SIGTERM', async () => {
    const dir = testdir('examples/quickstart');
    const ledger = path.join(dir, 'ledger.db');
    const { json } = await deployerJson<{ secret: string }>(['token', 'create', '--role', 'viewer', '--name', 'test', '--ledger', ledger]);
    const server = spawnDeployer(['serve', '-C', dir, '--ledger', ledger, '--port', '0', '--json']);
    await server.waitFor('"url"');
    const url = (JSON.parse(server.output().slice(0, server.output().indexOf('}') + 1)) as { url: string }).url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await fetch(`${url}/api/v1/stacks`)).status).toBe(401);
    const stacks = await fetch(`${url}/api/v1/stacks`, { headers: { authorization: `Bearer ${json.secret}` } });
    expect(((await stacks.json()) as { stacks: { name: string }[] }).stacks.map((s) => s.name)).toEqual(['quickstart']);
    server.child.kill('SIGTERM');
    expect(await server.exit).toBe(0);
    expect(server.output()).toContain('deployer serve: stopping');
  });
});

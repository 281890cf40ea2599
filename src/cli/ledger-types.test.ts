/**
 * Deployment types of a team's own, the pending status and the deployment a rollback undid, as a
 * user records them: an unregistered type is refused naming the flag (nothing written), a
 * registered one is taken by record-deployment, list-deployments and import alike.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployer, deployerJson } from '../../test/helpers/cli.js';
import { removeTestdirs, testdir } from '../../test/helpers/testdir.js';

let dir: string;
let ledger: string;
const record = (...a: string[]) =>
  deployer([
    'ledger',
    'record-deployment',
    '--service',
    'web',
    '--version',
    '1.0.0',
    '-e',
    'prod',
    '--started',
    '2026-12-01T10:00:00Z',
    ...a,
    '--ledger',
    ledger,
  ]);

beforeAll(() => {
  dir = testdir('ledger-export');
  ledger = path.join(dir, 'types.db');
});
afterAll(() => removeTestdirs());

describe('registered deployment types', () => {
  it('an unregistered type is refused naming the flag and how to register it, and nothing is written', async () => {
    const r = await record('--type', 'shadow', '--status', 'success', '--completed', '2026-12-01T10:05:00Z');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--type "shadow" is not one of blue-green, canary, rolling, big-bang/);
    expect(r.stderr).toMatch(/deployer ledger register-type <name> --description <text>/);
    expect(existsSync(ledger)).toBe(false);
  });

  it('register-type, list-types, then deployments of that type are recorded, listed and imported', async () => {
    expect((await deployer(['ledger', 'register-type', 'shadow', '--ledger', ledger])).stderr).toMatch(/--description is required/);
    const reg = await deployer(['ledger', 'register-type', 'shadow', '--description', 'mirrored traffic', '--ledger', ledger]);
    expect(reg.code, reg.stderr).toBe(0);
    const builtin = await deployer(['ledger', 'register-type', 'canary', '--description', 'x', '--ledger', ledger]);
    expect(builtin.code).toBe(2);
    expect(builtin.stderr).toMatch(/canary is a built-in deployment type/);
    const { json } = await deployerJson<{ types: Array<{ name: string; builtin: boolean }> }>(['ledger', 'list-types', '--ledger', ledger]);
    expect(json.types.map((t) => [t.name, t.builtin])).toEqual([
      ['blue-green', true],
      ['canary', true],
      ['rolling', true],
      ['big-bang', true],
      ['shadow', false],
    ]);

    expect((await record('--type', 'shadow', '--status', 'success', '--completed', '2026-12-01T10:05:00Z', '--id', 'd1')).code).toBe(0);
    // Pending: queued, not started, no completion.
    expect((await record('--type', 'canary', '--status', 'pending', '--id', 'd2')).code).toBe(0);
    const listed = await deployerJson<{ deployments: Array<{ id: string; status: string }> }>([
      'ledger',
      'list-deployments',
      '--type',
      'shadow',
      '--ledger',
      ledger,
    ]);
    expect(listed.json.deployments.map((d) => d.id)).toEqual(['d1']);

    const file = path.join(dir, 'shadow.json');
    const d3 = { ...listed.json.deployments[0], id: 'd3' };
    writeFileSync(file, JSON.stringify({ format: 'deployer-ledger', version: 1, deployments: [d3], rollbacks: [] }));
    const imported = await deployer(['ledger', 'import', file, '--ledger', ledger]);
    expect(imported.code, imported.stderr).toBe(0);
    const unknown = path.join(dir, 'unknown.json');
    writeFileSync(
      unknown,
      JSON.stringify({ format: 'deployer-ledger', version: 1, deployments: [{ ...d3, id: 'd4', type: 'dark' }], rollbacks: [] }),
    );
    const refused = await deployer(['ledger', 'import', unknown, '--ledger', ledger]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/deployments\[0\]\.type: "dark" is not one of blue-green, canary, rolling, big-bang, shadow/);
  });

  it('record-rollback --deployment keeps the deployment it undid', async () => {
    const r = await deployer([
      'ledger',
      'record-rollback',
      '--service',
      'web',
      '-e',
      'prod',
      '--from-version',
      '1.0.0',
      '--to-version',
      '0.9.0',
      '--reason',
      'errors',
      '--timestamp',
      '2026-12-01T11:00:00Z',
      '--deployment',
      'd1',
      '--ledger',
      ledger,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const { json } = await deployerJson<{ rollbacks: Array<{ deploymentId?: string }> }>(['ledger', 'list-rollbacks', '--ledger', ledger]);
    expect(json.rollbacks[0]!.deploymentId).toBe('d1');
  });
});

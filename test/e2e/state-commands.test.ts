/**
 * Every `deployer state` command against both backends: the file store with file locks, and
 * S3 (s3rver) with DynamoDB locks (dynalite). States are written through the store, then the
 * commands are run as a user types them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSettings } from '../../src/config/index.js';
import { FileLockManager } from '../../src/lock/file.js';
import { openLockManager } from '../../src/lock/index.js';
import type { ComponentState, StackState } from '../../src/model/state.js';
import { FileBlobs } from '../../src/state/file.js';
import { emptyState, openStateStore } from '../../src/state/index.js';
import { parseS3Url, S3Blobs } from '../../src/state/s3.js';
import { deployer, deployerJson } from '../helpers/cli.js';
import { startDynamoDb, startS3, type DynamoDbEmulator, type S3Emulator } from '../helpers/emulators.js';
import { removeTestdirs, testdir } from '../helpers/testdir.js';

let s3: S3Emulator;
let dynamo: DynamoDbEmulator;
beforeAll(async () => {
  [s3, dynamo] = await Promise.all([startS3(), startDynamoDb()]);
});
afterAll(async () => {
  await Promise.all([s3.close(), dynamo.close()]);
  removeTestdirs();
});

const record = (run: string, kind: ComponentState['kind'] = 'S3'): ComponentState => ({
  kind,
  target: 'local',
  specHash: `h-${run}`,
  inputsHash: `i-${run}`,
  spec: {},
  outputs: { path: `/b/${run}` },
  dependsOn: [],
  pulumiStack: `quickstart.dev.web.${run}`,
  status: 'deployed',
  deploymentId: `run-${run}`,
  updatedAt: '2026-01-01T00:00:00.000Z',
});

const backends: Array<[string, () => Promise<string[]>]> = [
  ['file state, file locks', async () => []],
  [
    'S3 state, DynamoDB locks',
    async () => ['--state-url', await s3.stateUrl('state-cmds'), '--lock-url', await dynamo.lockUrl('state-cmds-locks')],
  ],
];

describe.each(backends)('state commands on %s', (_name, urls) => {
  let dir: string;
  let flags: string[];
  const args = (...a: string[]): string[] => [...a, '-C', dir, '-e', 'dev', ...flags];

  beforeAll(async () => {
    dir = testdir('examples/quickstart');
    flags = await urls();
    const settings = resolveSettings({ dir, ...(flags.length ? { stateUrl: flags[1]!, lockUrl: flags[3]! } : {}) });
    const store = openStateStore(settings.stateUrl, dir);
    // Three versions: assets (1), + api (2), assets updated (3).
    let s: StackState = await store.write({ ...emptyState('quickstart', 'dev'), components: { 'web/assets': record('1') } });
    s = await store.write({ ...s, components: { ...s.components, 'web/api': record('2', 'MicroService') } });
    await store.write({ ...s, components: { ...s.components, 'web/assets': record('3') } });
  });

  it('list, show and history read the recorded versions', async () => {
    expect((await deployer(args('state', 'list'))).stdout).toMatch(
      /web\/api +MicroService +deployed[\s\S]*web\/assets +S3 +deployed[\s\S]*serial 3/,
    );
    expect((await deployerJson<{ deploymentId: string }>(args('state', 'show', 'web/assets'))).json.deploymentId).toBe('run-3');
    const h = await deployerJson<{ versions: Array<{ serial: number; current: boolean; components: number }> }>(args('state', 'history'));
    expect(h.json.versions.map((v) => [v.serial, v.current, v.components])).toEqual([
      [3, true, 2],
      [2, false, 2],
      [1, false, 1],
    ]);
  });

  it('reset --to restores a recorded version as a new serial, touching nothing, and shows the plan from there', async () => {
    const r = await deployer(args('state', 'reset', '--to', '1'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Restored the state of serial 1 as serial 4\. Nothing was deployed or destroyed\./);
    expect(r.stdout).toMatch(/\+ +create +web\/api/);
    expect(
      (await deployerJson<{ components: Record<string, ComponentState> }>(args('state', 'show'))).json.components['web/assets']!
        .deploymentId,
    ).toBe('run-1');
    const missing = await deployer(args('state', 'reset', '--to', '99'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/state serial 99 does not exist[\s\S]*stored versions: 1, 2, 3, 4/);
  });

  it('rm forgets a component without destroying it', async () => {
    // The old name of `state reset` still works, and says it is the old name.
    const old = await deployer(args('state', 'rollback', '--to', '3'));
    expect(old.code, old.stderr).toBe(0);
    expect(old.stderr).toMatch(/`deployer state rollback` is now `deployer state reset`/);
    const r = await deployer(args('state', 'rm', 'web/api'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /Removed web\/api from the state \(now serial 6\)\. Nothing was destroyed: its resources stay in the Pulumi stack quickstart.dev.web.2/,
    );
    expect(Object.keys((await deployerJson<{ components: object }>(args('state', 'show'))).json.components)).toEqual(['web/assets']);
    expect((await deployer(args('state', 'rm', 'web/nothing'))).code).toBe(2);
  });

  it('pull and push check lineage and serial, unless --force', async () => {
    const file = path.join(dir, 'pulled.json');
    expect((await deployer([...args('state', 'pull'), '--out', file])).code).toBe(0);
    const pulled = JSON.parse(readFileSync(file, 'utf8')) as StackState;
    expect(pulled.serial).toBe(6);

    writeFileSync(file, JSON.stringify({ ...pulled, components: { ...pulled.components, 'web/extra': record('x') } }));
    const ok = await deployer(args('state', 'push', file));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/the state is now serial 7/);

    writeFileSync(file, JSON.stringify({ ...pulled, serial: 2 }));
    const older = await deployer(args('state', 'push', file));
    expect(older.code).toBe(2);
    expect(older.stderr).toMatch(/the pushed state \(serial 2\) is older than the stored one \(serial 7\)/);

    writeFileSync(file, JSON.stringify({ ...pulled, lineage: 'another-history' }));
    const other = await deployer(args('state', 'push', file));
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/lineage another-history, the stored one .*: they are different histories/);
    const forced = await deployer([...args('state', 'push', file), '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect((await deployerJson<{ serial: number; lineage: string }>(args('state', 'show'))).json.lineage).toBe(pulled.lineage);

    writeFileSync(file, JSON.stringify({ ...pulled, stack: 'elsewhere' }));
    expect((await deployer(args('state', 'push', file))).stderr).toMatch(/it is the state of elsewhere\/dev, not of quickstart\/dev/);
  });

  it('a damaged state: every command says how to recover, history stays readable, recover restores the newest intact version', async () => {
    const settings = resolveSettings({ dir, ...(flags.length ? { stateUrl: flags[1]!, lockUrl: flags[3]! } : {}) });
    const blobs = flags.length ? new S3Blobs(parseS3Url(settings.stateUrl), undefined, 1) : new FileBlobs(path.join(dir, '.deployer'));
    const key = 'stacks/quickstart/dev/state.json';
    const before = (await deployerJson<StackState>(args('state', 'show'))).json;
    const body = (await blobs.get(key))!;
    await blobs.put(key, body.subarray(0, body.length - 40)); // a write cut short by a full disk

    for (const command of [['state', 'list'], ['state', 'show'], ['state', 'pull'], ['rollback', '--last-good', '--yes'], ['plan']]) {
      // A shared state needs the passphrase before anything else is looked at (the engine reads it from the process).
      process.env['PULUMI_CONFIG_PASSPHRASE'] = 'state-commands';
      const r = await deployer(args(...command)).finally(() => delete process.env['PULUMI_CONFIG_PASSPHRASE']);
      expect(r.code, `${command.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(/state .*state\.json does not match its digest/);
      expect(r.stderr).toMatch(
        /Restore the newest intact version from its history with: deployer state recover .*--stack quickstart -e dev/,
      );
    }
    const history = await deployer(args('state', 'history'));
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toMatch(/\? +current +DAMAGED: state .* does not match its digest/);
    expect(history.stdout).toMatch(new RegExp(`\\n +${before.serial - 1} +replaced`));
    expect(history.stdout).toMatch(/The current state is damaged\. Restore the newest intact version with: deployer state recover/);

    const recovered = await deployerJson<{ restored: number; serial: number; wasDamaged: boolean; damagedKeptAt: string }>(
      args('state', 'recover'),
    );
    expect(recovered.code, recovered.stderr).toBe(0);
    expect(recovered.json).toMatchObject({ restored: before.serial - 1, serial: before.serial + 1, wasDamaged: true });
    expect(recovered.json.damagedKeptAt).toMatch(/stacks\/quickstart\/dev\/damaged\//);
    const now = (await deployerJson<StackState>(args('state', 'show'))).json;
    expect(now.serial).toBe(before.serial + 1);
    expect(now.lineage).toBe(before.lineage);
    // An intact state has nothing to recover; --to makes a version current anyway.
    const again = await deployer(args('state', 'recover'));
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/is intact \(serial \d+\): there is nothing to recover/);

    // push --force and state reset --force replace a damaged state too.
    const file = path.join(dir, 'trusted.json');
    writeFileSync(file, JSON.stringify(before));
    await blobs.put(key, '{"version":1,"serial":');
    expect((await deployer(args('state', 'push', file))).code).toBe(1);
    const pushed = await deployer([...args('state', 'push', file), '--force']);
    expect(pushed.code, pushed.stderr).toBe(0);
    await blobs.put(key, 'garbage');
    const rolled = await deployer([...args('state', 'reset', '--to', String(before.serial - 1)), '--force']);
    expect(rolled.code, rolled.stderr).toBe(0);
    expect((await deployerJson<StackState>(args('state', 'show'))).json.components).toEqual(now.components);
  });

  it('refuses to change the state while a run holds a lock of the stack', async () => {
    const settings = resolveSettings({ dir, ...(flags.length ? { stateUrl: flags[1]!, lockUrl: flags[3]! } : {}) });
    const locks = flags.length ? openLockManager(settings.lockUrl, dir) : new FileLockManager(path.join(dir, '.deployer'));
    const held = await locks.acquire({
      lockKey: 'stack:quickstart:env:dev:service:web',
      ttlMs: 60_000,
      lockedBy: 'ci@runner',
      metadata: { operation: 'apply' },
    });
    const r = await deployer(args('state', 'rm', 'web/assets'));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/lock stack:quickstart:env:dev:service:web is held by ci@runner/);
    await locks.release(held.lockKey, held.lockId);
    expect((await deployerJson<{ locks: unknown[] }>(args('lock', 'status'))).json.locks).toEqual([]);
  });
});

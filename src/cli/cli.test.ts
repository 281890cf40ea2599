/**
 * The commands that need no Pulumi engine, run in process as a user types them: validate,
 * plan, graph, lock status/unlock, state, ledger, setup, and refusals that must leave nothing
 * behind (help and usage: help.test.ts).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployer, deployerJson } from '../../test/helpers/cli.js';
import { removeTestdirs, snapshotTree, testdir } from '../../test/helpers/testdir.js';
import Database from 'better-sqlite3';
import { SqliteLedger } from '../ledger/sqlite.js';
import { FileLockManager } from '../lock/file.js';
import { pulumiSdkVersion } from '../package-info.js';

let dir: string;
const at = (...a: string[]): string[] => [...a, '-C', dir, '-e', 'dev'];

beforeAll(() => {
  dir = testdir('examples/quickstart');
});
afterAll(() => removeTestdirs());

describe('validate and plan', () => {
  it('validate reports the stack, as text and as JSON', async () => {
    const text = await deployer(at('validate'));
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /Configuration is valid: stack quickstart, environment dev: 1 service\(s\), 2 component\(s\) in 2 wave\(s\)/,
    );
    const { json } = await deployerJson(at('validate'));
    expect(json).toEqual({ valid: true, stack: 'quickstart', environment: 'dev', services: 1, components: 2, waves: 2, warnings: [] });
  });

  it('an unknown environment, a wrong --stack and a missing directory are invalid input', async () => {
    const env = await deployer(['validate', '-C', dir, '-e', 'prod']);
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/unknown environment "prod"[\s\S]*environments of this stack: dev, staging/);
    const stack = await deployer([...at('validate'), '--stack', 'other']);
    expect(stack.code).toBe(2);
    expect(stack.stderr).toMatch(/--stack other does not match the stack in this directory \("quickstart"\)/);
    expect((await deployer(['validate', '-C', path.join(dir, 'nope'), '-e', 'dev'])).code).toBe(2);
  });

  it('validation errors come as data with --json', async () => {
    const bad = testdir('examples/quickstart', { 'port: 8080': 'port: eighty' });
    const { code, json } = await deployerJson<{
      ok: boolean;
      error: { code: string; problems: Array<{ path: string; location: { line: number } }> };
    }>(['validate', '-C', bad, '-e', 'dev']);
    expect(code).toBe(2);
    expect(json.ok).toBe(false);
    expect(json.error.code).toBe('VALIDATION_FAILED');
    expect(json.error.problems[0]).toMatchObject({ path: '/spec/port', location: { line: 13 } });
  });

  it('plan --detailed-exitcode exits 4 when there are changes, and writes nothing', async () => {
    const before = snapshotTree(dir);
    const r = await deployer([...at('plan'), '--detailed-exitcode']);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/\+ {2}create {2}web\/assets/);
    expect(r.stdout).toMatch(/Plan: 2 to create, 0 to update, 0 to replace, 0 to delete, 0 unchanged\./);
    expect(snapshotTree(dir)).toEqual(before);
    const { json } = await deployerJson<{ summary: { create: number }; waves: string[][] }>(at('plan'));
    expect(json.summary.create).toBe(2);
    expect(json.waves).toEqual([['web/assets'], ['web/api']]);
  });

  it('apply without --yes outside a terminal is refused before anything is written', async () => {
    const before = snapshotTree(dir);
    const r = await deployer(at('apply'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/apply needs --yes when it does not run in a terminal \(nothing was changed\)/);
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('a lock TTL too short to renew safely is refused before anything is written', async () => {
    const before = snapshotTree(dir);
    for (const ttl of ['0', '500ms', '5s']) {
      const r = await deployer([...at('apply', '--yes'), '--lock-ttl', ttl]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`invalid lock TTL "${ttl}": it must be at least 10s`));
    }
    expect(snapshotTree(dir)).toEqual(before);
  });
});

describe('graph', () => {
  it('prints mermaid, dot and JSON with explicit and implicit edges', async () => {
    const mermaid = await deployer(at('graph'));
    expect(mermaid.stdout).toMatch(/^flowchart LR/);
    expect(mermaid.stdout).toMatch(/web_assets -\.-> web_api/);
    const dot = await deployer([...at('graph'), '--format', 'dot']);
    expect(dot.stdout).toMatch(/"web\/assets" -> "web\/api" \[style=dashed\];/);
    const out = path.join(dir, 'graph.json');
    await deployer([...at('graph'), '--format', 'json', '--output', out]);
    const g = JSON.parse(readFileSync(out, 'utf8')) as { edges: unknown[]; waves: string[][] };
    expect(g.edges).toEqual([{ from: 'web/assets', to: 'web/api', kind: 'implicit' }]);
    expect(g.waves).toEqual([['web/assets'], ['web/api']]);
    const bad = await deployer([...at('graph'), '--format', 'png']);
    expect(bad.code).toBe(2);
  });
});

describe('lock status and unlock', () => {
  it('shows the holder, refuses a wrong id and confirmation-less unlock, releases with the right id', async () => {
    expect((await deployer(at('lock', 'status'))).stdout).toMatch(/No locks held on stack:quickstart:env:dev/);
    const locks = new FileLockManager(path.join(dir, '.deployer'));
    const held = await locks.acquire({
      lockKey: 'stack:quickstart:env:dev',
      ttlMs: 60_000,
      lockedBy: 'ci@runner-7',
      metadata: { operation: 'apply', ci_run_id: '42' },
    });

    const status = await deployer(at('lock', 'status'));
    expect(status.stdout).toMatch(new RegExp(`lock id: +${held.lockId}[\\s\\S]*held by: +ci@runner-7[\\s\\S]*ci_run_id=42`));
    const { json } = await deployerJson<{ locks: Array<{ lockId: string; expired: boolean }> }>(at('lock', 'status'));
    expect(json.locks).toMatchObject([{ lockId: held.lockId, expired: false }]);

    const wrong = await deployer([...at('lock', 'unlock'), '--force', '00000000-0000-0000-0000-000000000000', '--yes']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(new RegExp(`nothing was released[\\s\\S]*held with lock id ${held.lockId}`));
    const noYes = await deployer([...at('lock', 'unlock'), '--force', held.lockId]);
    expect(noYes.code).toBe(2);
    expect(await locks.status('stack:quickstart:env:dev')).toMatchObject({ lockId: held.lockId });

    const audit = path.join(dir, 'audit', 'trail.jsonl');
    const ok = await deployer([...at('lock', 'unlock'), '--force', held.lockId, '--yes', '--audit-log', audit]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/Released stack:quickstart:env:dev/);
    expect(await locks.status('stack:quickstart:env:dev')).toBeUndefined();
    // The force-unlock is in the audit trail, with who held the lock.
    expect(JSON.parse(readFileSync(audit, 'utf8'))).toMatchObject({
      event_type: 'lock-force-unlock',
      status: 'released',
      stack: 'quickstart',
      environment: 'dev',
      correlation_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      details: { lockKey: 'stack:quickstart:env:dev', lockId: held.lockId, heldBy: 'ci@runner-7' },
    });
  });

  it('a held lock makes apply exit 3, naming the holder and the unlock command', async () => {
    const locks = new FileLockManager(path.join(dir, '.deployer'));
    const held = await locks.acquire({ lockKey: 'stack:quickstart:env:dev', ttlMs: 60_000, lockedBy: 'ana@laptop', metadata: {} });
    const r = await deployer([...at('apply'), '--yes']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/is held by ana@laptop since/);
    // The command as printed works from where the user is (here: not the stack directory).
    const printed = /release the lock with: deployer (lock unlock .*)$/m.exec(r.stderr)?.[1];
    expect(printed).toBe(`lock unlock -C ${path.relative(process.cwd(), dir)} --stack quickstart -e dev --force ${held.lockId}`);
    const unlocked = await deployer([...printed!.split(' '), '--yes']);
    expect(unlocked.code, unlocked.stderr).toBe(0);
    expect(unlocked.stdout).toMatch(/Released stack:quickstart:env:dev/);
    expect(await locks.status(held.lockKey)).toBeUndefined();
  });
});

describe('state and ledger', () => {
  it('state list and show on a stack never applied', async () => {
    expect((await deployer(at('state', 'list'))).stdout).toMatch(/No components recorded/);
    expect((await deployerJson(at('state', 'show'))).json).toBeNull();
    const missing = await deployer(at('state', 'show', 'web/api'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no component web\/api in the state/);
  });

  it('ledger list-deployments reads DEPLOY_LEDGER_DB, filters, and says when there is nothing', async () => {
    const db = path.join(dir, 'ledger-test.db');
    const env = { DEPLOY_LEDGER_DB: db };
    expect((await deployer(['ledger', 'list-deployments', '-C', dir], env)).stdout).toMatch(/No deployments recorded/);
    expect(existsSync(db)).toBe(false);
    const ledger = new SqliteLedger(db);
    const base = {
      stack: 'quickstart',
      version: '1.0.0',
      environment: 'dev',
      type: 'rolling' as const,
      initiator: 'ana@laptop',
      metadata: {},
      parentId: 'run-1',
    };
    await ledger.recordDeployment({
      ...base,
      id: 'a',
      service: 'web',
      started: '2026-01-01T10:00:00.000Z',
      completed: '2026-01-01T10:00:04.000Z',
      status: 'success',
    });
    await ledger.recordDeployment({
      ...base,
      id: 'b',
      service: 'jobs',
      started: '2026-01-02T10:00:00.000Z',
      completed: null,
      status: 'failed',
    });
    await ledger.close();
    const table = await deployer(['ledger', 'list-deployments', '-C', dir], env);
    expect(table.stdout.split('\n')[0]).toMatch(/^STARTED +STACK +ENV +SERVICE +VERSION +TYPE +STATUS +DURATION +INITIATOR$/);
    expect(table.stdout).toMatch(/web +1\.0\.0 +rolling +success +4\.0s +ana@laptop/);
    const { json } = await deployerJson<{ deployments: Array<{ id: string }> }>(
      ['ledger', 'list-deployments', '-C', dir, '--service', 'jobs'],
      env,
    );
    expect(json.deployments.map((d) => d.id)).toEqual(['b']);

    // verify: intact (exit 0), then a row edited behind the ledger's back is named (exit 1).
    const intact = await deployer(['ledger', 'verify', '-C', dir], env);
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.stdout).toMatch(/The ledger is intact: 2 row\(s\) of history/);
    const raw = new Database(db);
    raw.prepare(`UPDATE deployments SET status = 'success' WHERE id = 'b'`).run();
    raw.close();
    const broken = await deployer(['ledger', 'verify', '-C', dir], env);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/was changed behind its back: 1 problem/);
    expect(broken.stderr).toMatch(/deployment b no longer says what its last write \(row 2\) recorded: it was changed/);
    const asJson = await deployerJson<{ ok: boolean; error: { code: string; details: string[] } }>(['ledger', 'verify', '-C', dir], env);
    expect(asJson.json).toMatchObject({
      ok: false,
      error: { code: 'LEDGER_TAMPERED', details: [expect.stringMatching(/^deployment b /)] },
    });
  });
});

describe('ledger record-deployment and record-rollback', () => {
  it('record what other tools deployed; bad input exits 2 naming the flag and writes nothing, not even a file', async () => {
    const db = path.join(dir, 'external.db');
    const env = { DEPLOY_LEDGER_DB: db };
    const flags = ['--service', 'web', '--version', '2.0.0', '-e', 'prod', '--type', 'blue-green', '--started', '2026-12-01T10:00:00Z'];
    const bad = await deployer(
      ['ledger', 'record-deployment', ...flags, '--completed', '2026-12-01T09:00:00Z', '--status', 'success'],
      env,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--completed 2026-12-01T09:00:00Z is before --started 2026-12-01T10:00:00Z/);
    expect((await deployer(['ledger', 'record-deployment', ...flags, '--status', 'done'], env)).stderr).toMatch(
      /--status "done" is not one of/,
    );
    expect(existsSync(db)).toBe(false);

    const ok = await deployer(
      [
        'ledger',
        'record-deployment',
        ...flags,
        '--completed',
        '2026-12-01T10:02:00Z',
        '--status',
        'success',
        '--metadata',
        'git_commit=abc',
      ],
      env,
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^Recorded deployment [0-9a-f-]{36}: web 2\.0\.0 to prod \(blue-green, success\)\.$/m);
    const back = await deployer(
      [
        'ledger',
        'record-rollback',
        '--service',
        'web',
        '-e',
        'prod',
        '--from-version',
        '2.0.0',
        '--to-version',
        '1.9.0',
        '--reason',
        'errors',
        '--timestamp',
        '2026-12-01T10:30:00Z',
      ],
      env,
    );
    expect(back.code, back.stderr).toBe(0);
    const { json } = await deployerJson<{ deployments: Array<Record<string, unknown>> }>(['ledger', 'list-deployments', '-e', 'prod'], env);
    expect(json.deployments).toEqual([
      expect.objectContaining({
        service: 'web',
        version: '2.0.0',
        type: 'blue-green',
        status: 'success',
        metadata: { git_commit: 'abc', source: 'external' },
      }),
    ]);
    expect((await deployer(['ledger', 'list-rollbacks'], env)).stdout).toMatch(/web +2\.0\.0 +1\.9\.0 +errors/);
    expect((await deployer(['ledger', 'verify'], env)).stdout).toMatch(/intact: 2 row/);

    // Filters and formats: by type and time (both bounds inclusive), as CSV (RFC 4180, JSON metadata quoted).
    const list = (...more: string[]) => deployer(['ledger', 'list-deployments', ...more], env);
    expect((await list('--type', 'canary')).stdout).toMatch(/No deployments recorded/);
    expect((await list('--from', '2026-12-01T10:00:00Z', '--to', '2026-12-01T10:00:00Z')).stdout).toMatch(/web +2\.0\.0 +blue-green/);
    expect((await list('--to', '2026-12-01T09:59:59Z')).stdout).toMatch(/No deployments recorded/);
    const asCsv = (await list('--format', 'csv')).stdout.split('\r\n');
    expect(asCsv[0]).toBe('id,started,completed,stack,environment,service,version,type,status,initiator,parent_id,metadata');
    expect(asCsv[1]).toMatch(
      /^[0-9a-f-]{36},2026-12-01T10:00:00\.000Z,2026-12-01T10:02:00\.000Z,,prod,web,2\.0\.0,blue-green,success,.*,,"\{""git_commit"":""abc"",""source"":""external""\}"$/,
    );
    expect((await deployer(['ledger', 'list-rollbacks', '--format', 'csv'], env)).stdout).toBe(
      'at,stack,environment,service,from_version,to_version,reason\r\n2026-12-01T10:30:00.000Z,,prod,web,2.0.0,1.9.0,errors\r\n',
    );
    for (const bad of [
      ['--from', 'last week'],
      ['--type', 'blue'],
      ['--status', 'ok'],
      ['--limit', '-1'],
      ['--format', 'xml'],
    ]) {
      const r = await list(...bad);
      expect(r.code, bad.join(' ')).toBe(2);
      expect(r.stderr).toContain(bad[0]);
    }
    // A metric over what was recorded: one finished deployment, production by default.
    const metric = await deployerJson<{ results: Array<{ value: number | null; band: string | null; counted: number }> }>(
      ['ledger', 'show-metrics', '--metric', 'change-failure-rate', '--from', '2026-11-25T00:00:00Z', '--to', '2026-12-02T00:00:00Z'],
      env,
    );
    expect(metric.json.results).toEqual([expect.objectContaining({ value: 0, band: 'elite', counted: 1 })]);
    const none = await deployer(['ledger', 'show-metrics', '--metric', 'mttr', '-e', 'staging'], env);
    expect(none.stdout).toMatch(/^ {2}n\/a from 0 measurement/m);
    expect((await deployer(['ledger', 'show-metrics', '--metric', 'mttr', '--time-zone', 'Mars/Base'], env)).code).toBe(2);
    // The version of deployer itself is still `deployer --version`.
    expect((await deployer(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('setup and logs', () => {
  it('setup reports the Pulumi CLI it will use', async () => {
    const fake = path.join(dir, 'fake-bin', 'bin', 'pulumi');
    mkdirSync(path.dirname(fake), { recursive: true });
    writeFileSync(fake, `#!/bin/sh\necho v${pulumiSdkVersion}\n`);
    chmodSync(fake, 0o755);
    const r = await deployer(['setup'], { PULUMI_PATH: fake });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Pulumi CLI v${pulumiSdkVersion} ready: ${fake} \\(from PULUMI_PATH`));
  });

  it('--log-level info writes structured JSON lines with one correlation id', async () => {
    const log = path.join(dir, 'logs', 'run.log');
    await deployer([...at('validate'), '--log-level', 'info', '--log-file', log]);
    const lines = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { correlationId: string; msg: string });
    expect(lines[0]!.msg).toBe('command started');
    expect(new Set(lines.map((l) => l.correlationId)).size).toBe(1);
  });
});

describe('examples', () => {
  const examples: Array<[string, string[]]> = [
    ['examples/quickstart', ['dev', 'staging']],
    ['examples/shop', ['dev', 'staging', 'production']],
  ];
  for (const [example, environments] of examples) {
    for (const env of environments) {
      it(`${example} validates and plans for ${env}`, async () => {
        const copy = testdir(example);
        const v = await deployerJson<{ valid: boolean; components: number }>(['validate', '-C', copy, '-e', env]);
        expect(v.code, v.stderr).toBe(0);
        expect(v.json.valid).toBe(true);
        const p = await deployerJson<{ summary: { create: number } }>(['plan', '-C', copy, '-e', env]);
        expect(p.code, p.stderr).toBe(0);
        expect(p.json.summary.create).toBe(v.json.components);
      });
    }
  }
});

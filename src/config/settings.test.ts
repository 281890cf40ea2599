/** resolveSettings / parseDuration: flags > DEPLOYER_* environment > deployer.config.yaml > defaults. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { parseDuration, resolveSettings } from './settings.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A stack directory, with a deployer.config.yaml holding `config` when given. */
function stackDir(config?: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-settings-'));
  made.push(dir);
  if (config !== undefined) writeFileSync(path.join(dir, 'deployer.config.yaml'), config);
  return dir;
}

const CONFIG = [
  'environment: staging',
  'stateUrl: s3://file-bucket/state',
  'lockUrl: dynamodb://file-table',
  'concurrency: 2',
  'lockTtl: 30m',
  'lockTimeout: 10s',
  'failFast: true',
  'ledger: /var/lib/file-ledger.db',
  '',
].join('\n');

const ENV = {
  DEPLOYER_ENVIRONMENT: 'prod',
  DEPLOYER_STATE_URL: 's3://env-bucket/state',
  DEPLOYER_LOCK_URL: 'dynamodb://env-table',
  DEPLOYER_CONCURRENCY: '4',
  DEPLOYER_LOCK_TTL: '2h',
  DEPLOYER_LOCK_TIMEOUT: '1m',
  DEPLOYER_FAIL_FAST: 'false',
  DEPLOY_LEDGER_DB: '/var/lib/env-ledger.db',
};

describe('resolveSettings', () => {
  it('uses the defaults when nothing is set', () => {
    const dir = stackDir();
    expect(resolveSettings({ dir }, {})).toEqual({
      dir,
      environment: undefined,
      stack: undefined,
      stateUrl: 'file://.deployer',
      lockUrl: 'file://.deployer',
      concurrency: 256,
      scheduling: 'graph',
      lockTtlMs: 3_600_000,
      lockTimeoutMs: 0,
      failFast: false,
      ledger: path.join(dir, '.deployer', 'ledger.db'),
      variables: {},
      varFiles: [],
    });
  });

  it('reads deployer.config.yaml in the stack directory over the defaults', () => {
    const dir = stackDir(CONFIG);
    expect(resolveSettings({ dir }, {})).toEqual({
      dir,
      environment: 'staging',
      stack: undefined,
      stateUrl: 's3://file-bucket/state',
      lockUrl: 'dynamodb://file-table',
      concurrency: 2,
      scheduling: 'graph',
      lockTtlMs: 1_800_000,
      lockTimeoutMs: 10_000,
      failFast: true,
      ledger: '/var/lib/file-ledger.db',
      variables: {},
      varFiles: [],
    });
  });

  it('lets DEPLOYER_* environment variables win over the config file', () => {
    const dir = stackDir(CONFIG);
    expect(resolveSettings({ dir }, ENV)).toEqual({
      dir,
      environment: 'prod',
      stack: undefined,
      stateUrl: 's3://env-bucket/state',
      lockUrl: 'dynamodb://env-table',
      concurrency: 4,
      scheduling: 'graph',
      lockTtlMs: 7_200_000,
      lockTimeoutMs: 60_000,
      failFast: false, // DEPLOYER_FAIL_FAST=false beats failFast: true in the file
      ledger: '/var/lib/env-ledger.db',
      variables: {},
      varFiles: [],
    });
  });

  it('lets flags win over everything', () => {
    const dir = stackDir(CONFIG);
    const flags = {
      dir,
      environment: 'qa',
      stateUrl: 'file:///tmp/state',
      lockUrl: 'file:///tmp/lock',
      concurrency: '16',
      scheduling: 'graph',
      lockTtl: '90s',
      lockTimeout: '250ms',
      failFast: true,
      ledger: 'postgres://ledger',
      variables: {},
      varFiles: [],
    };
    expect(resolveSettings(flags, { ...ENV, DEPLOYER_FAIL_FAST: 'false' })).toEqual({
      dir,
      environment: 'qa',
      stack: undefined,
      stateUrl: 'file:///tmp/state',
      lockUrl: 'file:///tmp/lock',
      concurrency: 16,
      scheduling: 'graph',
      lockTtlMs: 90_000,
      lockTimeoutMs: 250,
      failFast: true,
      ledger: 'postgres://ledger',
      variables: {},
      varFiles: [],
    });
  });

  it('treats an empty environment variable as unset', () => {
    const dir = stackDir(CONFIG);
    const empty = Object.fromEntries(Object.keys(ENV).map((k) => [k, '']));
    expect(resolveSettings({ dir }, empty)).toEqual(resolveSettings({ dir }, {}));
  });

  it('turns fail-fast on from DEPLOYER_FAIL_FAST=true', () => {
    expect(resolveSettings({ dir: stackDir() }, { DEPLOYER_FAIL_FAST: 'true' }).failFast).toBe(true);
  });

  it('finds the stack directory from DEPLOYER_DIR, and its config file there', () => {
    const dir = stackDir('concurrency: 3\n');
    const s = resolveSettings({}, { DEPLOYER_DIR: dir });
    expect([s.dir, s.concurrency]).toEqual([dir, 3]);
  });

  it('accepts an empty config file', () => {
    expect(resolveSettings({ dir: stackDir('# nothing yet\n') }, {}).concurrency).toBe(256);
  });

  it('rejects a config file that is not YAML, naming the file', () => {
    const dir = stackDir('concurrency: [4\nlockTtl: 1h\n');
    const file = path.join(dir, 'deployer.config.yaml');
    const err = (() => {
      try {
        resolveSettings({ dir }, {});
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).message.startsWith(`${file}: `)).toBe(true);
  });

  it('rejects a config file that is not a mapping, naming the file', () => {
    const dir = stackDir('- concurrency: 4\n');
    expect(() => resolveSettings({ dir }, {})).toThrow(`${path.join(dir, 'deployer.config.yaml')}: expected a mapping of settings`);
  });

  it.each(['0', '-1', '2.5', 'many', ''])('rejects concurrency %j with InvalidInputError', (value) => {
    const err = (() => {
      try {
        resolveSettings({ dir: stackDir(), concurrency: value }, {});
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).message).toBe(`invalid --concurrency "${value}": use a whole number of 1 or more`);
  });

  it('rejects an invalid duration from any source, saying which setting it was', () => {
    expect(() => resolveSettings({ dir: stackDir('lockTtl: forever\n') }, {})).toThrow(
      'invalid lock TTL "forever": use a duration like 30s, 5m or 1h',
    );
    expect(() => resolveSettings({ dir: stackDir() }, { DEPLOYER_LOCK_TIMEOUT: '5 minutes' })).toThrow('invalid lock timeout "5 minutes"');
  });

  it("resolves YAML merge keys in deployer.config.yaml, as in the stack's documents", () => {
    const dir = stackDir('defaults: &defaults\n  concurrency: 3\n  lockTtl: 2m\n<<: *defaults\nlockTtl: 5m\n');
    expect(resolveSettings({ dir }, {})).toMatchObject({ concurrency: 3, lockTtlMs: 300_000 });
  });

  it('refuses a lock TTL too short to be renewed safely, from any source', () => {
    for (const ttl of ['0', '0s', '1ms', '250ms', '9.9s']) {
      expect(() => resolveSettings({ dir: stackDir(), lockTtl: ttl }, {})).toThrow(`invalid lock TTL "${ttl}": it must be at least 10s`);
    }
    expect(() => resolveSettings({ dir: stackDir() }, { DEPLOYER_LOCK_TTL: '1s' })).toThrow(InvalidInputError);
    expect(() => resolveSettings({ dir: stackDir('lockTtl: 2s\n') }, {})).toThrow(InvalidInputError);
    expect(resolveSettings({ dir: stackDir(), lockTtl: '10s' }, {}).lockTtlMs).toBe(10_000);
  });

  it("takes the stack name the user means from --stack only (a hook's DEPLOYER_STACK is not it)", () => {
    expect(resolveSettings({ dir: stackDir(), stack: 'shop' }, { DEPLOYER_STACK: 'other' }).stack).toBe('shop');
    expect(resolveSettings({ dir: stackDir() }, { DEPLOYER_STACK: 'other' }).stack).toBeUndefined();
  });
});

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['250ms', 250],
    ['45', 45_000],
    ['0s', 0],
    ['1.5s', 1_500],
    [' 2m ', 120_000],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text, 'lock TTL')).toBe(ms);
  });

  it.each(['', 'abc', '-5s', '5d', '5 m', 's', '1h30m'])('rejects %j with InvalidInputError', (text) => {
    expect(() => parseDuration(text, 'lock timeout')).toThrow(InvalidInputError);
    expect(() => parseDuration(text, 'lock timeout')).toThrow(`invalid lock timeout "${text}": use a duration like 30s, 5m or 1h`);
  });
});

describe('--var', () => {
  it('parses name=value, keeping numbers and booleans typed, and refuses a missing name', () => {
    const dir = stackDir();
    expect(
      resolveSettings({ dir, var: ['replicas=3', 'debug=true', 'region=eu-west-1', 'empty='], varFile: ['vars.yaml'] }, {}),
    ).toMatchObject({
      variables: { replicas: 3, debug: true, region: 'eu-west-1', empty: '' },
      varFiles: [path.resolve('vars.yaml')],
    });
    expect(() => resolveSettings({ dir, var: ['=x'] }, {})).toThrow(/invalid --var =x: expected name=value/);
  });
});

describe('--strategy', () => {
  it('chooses graph scheduling or barrier waves, and refuses anything else', () => {
    const dir = stackDir();
    expect(resolveSettings({ dir }, {}).scheduling).toBe('graph');
    expect(resolveSettings({ dir, strategy: 'waves' }, {}).scheduling).toBe('waves');
    expect(resolveSettings({ dir }, { DEPLOYER_STRATEGY: 'waves' }).scheduling).toBe('waves');
    expect(() => resolveSettings({ dir, strategy: 'fast' }, {})).toThrow(/invalid --strategy "fast"/);
  });
});

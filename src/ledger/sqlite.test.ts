import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { openLedger, type DeploymentEvent, type LedgerStore, type RollbackEvent } from './index.js';
import { SqliteLedger } from './sqlite.js';

const dirs: string[] = [];
const open: LedgerStore[] = [];
function ledgerFile(...nested: string[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-ledger-'));
  dirs.push(dir);
  return path.join(dir, ...nested, 'ledger.db');
}
function newLedger(file = ledgerFile()): LedgerStore {
  const l = openLedger(file);
  open.push(l);
  return l;
}
afterEach(() => {
  for (const l of open.splice(0)) l.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function deployment(id: string, over: Partial<DeploymentEvent> = {}): DeploymentEvent {
  return {
    id,
    stack: 'web',
    service: 'api',
    version: 'v1',
    environment: 'prod',
    type: 'big-bang',
    started: '2025-03-01T10:00:00.000Z',
    completed: '2025-03-01T10:05:00.000Z',
    status: 'success',
    initiator: 'alice@laptop',
    metadata: { gitCommit: 'abc123' },
    parentId: 'run-1',
    ...over,
  };
}

function rollback(id: string, over: Partial<RollbackEvent> = {}): RollbackEvent {
  return {
    id,
    stack: 'web',
    service: 'api',
    environment: 'prod',
    fromVersion: 'v2',
    toVersion: 'v1',
    reason: 'error rate above 5%',
    at: '2025-03-01T11:00:00.000Z',
    ...over,
  };
}

describe('SqliteLedger', () => {
  it('records deployments and lists them back, newest first, as recorded', () => {
    const ledger = newLedger();
    const a = deployment('d1', { started: '2025-03-01T10:00:00.000Z' });
    const b = deployment('d2', { started: '2025-03-03T10:00:00.000Z', version: 'v2', metadata: { nested: { n: 1, list: [1, 'x'] } } });
    const c = deployment('d3', { started: '2025-03-02T10:00:00.000Z', completed: null, status: 'in-progress', parentId: null });
    for (const d of [a, b, c]) ledger.recordDeployment(d);
    expect(ledger.listDeployments()).toEqual([b, c, a]);
  });

  it('filters deployments by stack, service, environment, status, since and limit', () => {
    const ledger = newLedger();
    const all = [
      deployment('d1', { started: '2025-03-01T00:00:00.000Z' }),
      deployment('d2', { started: '2025-03-02T00:00:00.000Z', service: 'worker' }),
      deployment('d3', { started: '2025-03-03T00:00:00.000Z', environment: 'staging' }),
      deployment('d4', { started: '2025-03-04T00:00:00.000Z', status: 'failed' }),
      deployment('d5', { started: '2025-03-05T00:00:00.000Z', stack: 'billing' }),
      deployment('d6', { started: '2025-03-06T00:00:00.000Z', status: 'rolled-back', service: 'worker' }),
    ];
    for (const d of all) ledger.recordDeployment(d);
    const ids = (f: Parameters<LedgerStore['listDeployments']>[0]): string[] => ledger.listDeployments(f).map((d) => d.id);

    expect(ids({})).toEqual(['d6', 'd5', 'd4', 'd3', 'd2', 'd1']);
    expect(ids({ stack: 'web' })).toEqual(['d6', 'd4', 'd3', 'd2', 'd1']);
    expect(ids({ stack: 'billing' })).toEqual(['d5']);
    expect(ids({ service: 'worker' })).toEqual(['d6', 'd2']);
    expect(ids({ environment: 'staging' })).toEqual(['d3']);
    expect(ids({ status: 'failed' })).toEqual(['d4']);
    expect(ids({ status: 'in-progress' })).toEqual([]);
    expect(ids({ since: '2025-03-04T00:00:00.000Z' })).toEqual(['d6', 'd5', 'd4']);
    expect(ids({ limit: 2 })).toEqual(['d6', 'd5']);
    expect(ids({ stack: 'web', environment: 'prod', service: 'api', since: '2025-03-02T00:00:00.000Z' })).toEqual(['d4']);
    expect(ids({ service: 'worker', status: 'success' })).toEqual(['d2']);
    expect(ids({ stack: 'web', limit: 1 })).toEqual(['d6']);
  });

  it('keeps one row per deployment id: recorded in progress, then completed', () => {
    const ledger = newLedger();
    const started = deployment('d1', { completed: null, status: 'in-progress', metadata: { step: 'started' } });
    ledger.recordDeployment(started);
    expect(ledger.listDeployments({ status: 'in-progress' }).map((d) => d.id)).toEqual(['d1']);

    const done = { ...started, completed: '2025-03-01T10:07:00.000Z', status: 'success' as const, metadata: { step: 'done', results: { 'web/api': 'created' } } };
    ledger.recordDeployment(done);
    ledger.recordDeployment(done);
    expect(ledger.listDeployments()).toEqual([done]);
    expect(ledger.listDeployments({ status: 'in-progress' })).toEqual([]);
  });

  it('records rollbacks, idempotent by id, and filters them', () => {
    const ledger = newLedger();
    const r1 = rollback('r1', { at: '2025-03-01T11:00:00.000Z' });
    const r2 = rollback('r2', { at: '2025-03-02T11:00:00.000Z', service: 'worker' });
    const r3 = rollback('r3', { at: '2025-03-03T11:00:00.000Z', environment: 'staging' });
    for (const r of [r1, r2, r3, r1]) ledger.recordRollback(r);
    expect(ledger.listRollbacks()).toEqual([r3, r2, r1]);
    expect(ledger.listRollbacks({ service: 'worker' })).toEqual([r2]);
    expect(ledger.listRollbacks({ environment: 'prod' })).toEqual([r2, r1]);
    expect(ledger.listRollbacks({ since: '2025-03-02T00:00:00.000Z' })).toEqual([r3, r2]);
    expect(ledger.listRollbacks({ limit: 1 })).toEqual([r3]);
    // Rollbacks are not deployments.
    expect(ledger.listDeployments()).toEqual([]);
  });

  it('keeps what it recorded across reopening the file', () => {
    const file = ledgerFile();
    const first = new SqliteLedger(file);
    first.recordDeployment(deployment('d1'));
    first.recordRollback(rollback('r1'));
    first.close();
    const again = newLedger(file);
    expect(again.listDeployments()).toEqual([deployment('d1')]);
    expect(again.listRollbacks()).toEqual([rollback('r1')]);
  });

  it('refuses an event that breaks the schema, and records nothing for it', () => {
    const ledger = newLedger();
    expect(() => ledger.recordDeployment(deployment('d1', { status: 'exploded' as DeploymentEvent['status'] }))).toThrow();
    expect(ledger.listDeployments()).toEqual([]);
  });

  it('runs in WAL mode, so readers do not block the writer', () => {
    const file = ledgerFile();
    const ledger = newLedger(file);
    ledger.recordDeployment(deployment('d1'));
    const other = new Database(file, { readonly: true });
    try {
      expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
      expect((other.prepare('SELECT count(*) AS n FROM deployments').get() as { n: number }).n).toBe(1);
    } finally {
      other.close();
    }
  });

  it('creates the file, and the directories above it', () => {
    const file = ledgerFile('a', 'b', 'c');
    expect(existsSync(path.dirname(file))).toBe(false);
    newLedger(file).recordDeployment(deployment('d1'));
    expect(existsSync(file)).toBe(true);
  });
});

describe('openLedger', () => {
  it('opens a relative path against the current directory', () => {
    const file = ledgerFile();
    const ledger = newLedger(path.relative(process.cwd(), file));
    ledger.recordDeployment(deployment('d1'));
    expect(existsSync(file)).toBe(true);
  });

  it.each(['postgres://user@db/ledger', 'postgresql://db:5432/ledger'])('refuses %s: PostgreSQL is not available yet', (url) => {
    const err = (() => {
      try {
        openLedger(url);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).message).toContain('PostgreSQL');
    expect((err as InvalidInputError).details.join('\n')).toContain('DEPLOY_LEDGER_DB');
  });
});

/**
 * The AccessStore contract (access.ts), run against every store's (access-sqlite.test.ts,
 * access-postgres.test.ts, access-memory.test.ts): tokens kept by their hash and refused twice,
 * revoked once; an audit log appended to, filtered, newest first; deliveries claimed once,
 * whoever claims them at once. And, for the two SQL stores (accessSqlContract), what their
 * database itself does: refuse a change of the audit log, and migrate a ledger made before it.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import type { ApiToken, AuditEntry, WebhookDelivery } from './access.js';
import { deployment, rollback } from './ledger.contract.js';
import type { SqlLedgerUnderTest } from './sql.contract.js';
import { DRIFT_TYPE, type DeploymentTotals, type LedgerStore } from './store.js';

/** A store under test, another one on the same database (as another process opens it), and what removes them afterwards. */
export interface AccessUnderTest {
  ledger: LedgerStore;
  /** A new store on the same database (the memory one: a handle on the same records). */
  other(): LedgerStore;
  cleanup?: () => Promise<void>;
}

/** The sha256 (hex) of `secret`, as the server keeps a token. */
export const hashOf = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** A token of the deployer role, valid, created at 10:00, with `over` changed. */
export function token(id: string, over: Partial<ApiToken> = {}): ApiToken {
  return {
    id,
    name: `ci ${id}`,
    role: 'deployer',
    createdAt: '2026-01-01T10:00:00.000Z',
    createdBy: 'alice@laptop',
    expiresAt: null,
    revokedAt: null,
    ...over,
  };
}

/** An entry of tok_a deploying web/prod at 10:00, answered 202, with `over` changed. */
export function entry(over: Partial<Omit<AuditEntry, 'seq'>> = {}): Omit<AuditEntry, 'seq'> {
  return {
    at: '2026-01-01T10:00:00.000Z',
    actor: 'tok_a',
    role: 'deployer',
    action: 'deploy',
    target: 'web/prod',
    source: '127.0.0.1',
    result: 'ok',
    status: 202,
    detail: { run: 'run-1' },
    ...over,
  };
}

/** A GitHub push delivery, with `over` changed. */
export function delivery(deliveryId: string, over: Partial<WebhookDelivery> = {}): WebhookDelivery {
  return { source: 'github', hookId: '42', deliveryId, event: 'push', receivedAt: '2026-01-01T10:00:00.000Z', ...over };
}

export function accessStoreContract(name: string, make: () => Promise<AccessUnderTest>): void {
  describe(`AccessStore contract: ${name}`, () => {
    let ledger: LedgerStore;
    let other: () => LedgerStore;
    let cleanup: (() => Promise<void>) | undefined;
    const opened: LedgerStore[] = [];
    const another = (): LedgerStore => {
      const l = other();
      opened.push(l);
      return l;
    };
    beforeEach(async () => {
      ({ ledger, other, cleanup } = await make());
    });
    afterEach(async () => {
      for (const l of opened.splice(0)) await l.close();
      await ledger.close();
      await cleanup?.();
    });

    it('is one object, whenever asked', () => {
      expect(ledger.access()).toBe(ledger.access());
    });

    it('keeps tokens by the hash of their secret, finds them by it, lists them newest first', async () => {
      const access = ledger.access();
      const a = token('tok_a');
      const b = token('tok_b', { role: 'admin', createdAt: '2026-01-02T10:00:00.000Z', expiresAt: '2026-02-01T00:00:00.000Z' });
      const c = token('tok_c', { role: 'auditor', revokedAt: '2026-01-01T11:00:00.000Z' });
      await access.createToken(a, hashOf('secret-a'));
      await access.createToken(b, hashOf('secret-b'));
      await access.createToken(c, hashOf('secret-c'));
      expect(await access.tokenByHash(hashOf('secret-b'))).toEqual(b);
      // Revoked or expired, it is found: the caller decides what it is worth.
      expect(await access.tokenByHash(hashOf('secret-c'))).toEqual(c);
      expect(await access.tokenByHash(hashOf('secret-x'))).toBeUndefined();
      expect(await access.listTokens()).toEqual([b, a, c]);
      // What is handed out is a copy.
      (await access.listTokens())[0]!.role = 'viewer';
      expect((await access.tokenByHash(hashOf('secret-b')))?.role).toBe('admin');
      // And another store on the database sees them.
      expect(await another().access().listTokens()).toEqual([b, a, c]);
    });

    it('revokes a token once: revoking again keeps the first time; an unknown token is not revoked', async () => {
      const access = ledger.access();
      await access.createToken(token('tok_a'), hashOf('a'));
      expect(await access.revokeToken('tok_a', '2026-01-03T00:00:00.000Z')).toBe(true);
      expect(await access.revokeToken('tok_a', '2026-01-04T00:00:00.000Z')).toBe(true);
      expect(await access.tokenByHash(hashOf('a'))).toEqual(token('tok_a', { revokedAt: '2026-01-03T00:00:00.000Z' }));
      expect(await access.revokeToken('tok_nope', '2026-01-03T00:00:00.000Z')).toBe(false);
      expect(await access.listTokens()).toHaveLength(1);
    });

    it('refuses a token whose id or secret is kept already, one of no role, and one kept under its secret, keeping nothing', async () => {
      const access = ledger.access();
      await access.createToken(token('tok_a'), hashOf('a'));
      const refused = async (work: Promise<void>): Promise<InvalidInputError> => {
        const err = await work.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(InvalidInputError);
        return err as InvalidInputError;
      };
      expect((await refused(access.createToken(token('tok_a', { name: 'again' }), hashOf('b')))).message).toMatch(
        /^token tok_a was not kept: a token with its id or its secret is kept already/,
      );
      await refused(access.createToken(token('tok_b'), hashOf('a')));
      await refused(access.createToken(token('tok_c', { role: 'root' as ApiToken['role'] }), hashOf('c')));
      // A secret passed where its hash belongs is refused, and not repeated in the refusal.
      const secret = 'dpl_0123456789abcdef0123456789abcdef';
      const err = await refused(access.createToken(token('tok_d'), secret));
      expect(JSON.stringify([err.message, err.details])).not.toContain(secret);
      expect(await access.listTokens()).toEqual([token('tok_a')]);
    });

    it('appends audit entries with increasing seq and lists them newest first, each as kept', async () => {
      const access = ledger.access();
      const first = await access.appendAudit(entry({ detail: { run: 'run-1', nested: { n: [1, 'x'] }, gone: undefined } }));
      const second = await access.appendAudit(entry({ at: '2026-01-01T10:05:00.000Z', role: null, actor: 'anonymous' }));
      const third = await access.appendAudit(entry({ action: 'rollback', status: 409, result: 'conflict' }));
      expect([first.seq, second.seq, third.seq]).toEqual([1, 2, 3]);
      expect(first).toEqual({ ...entry({ detail: { run: 'run-1', nested: { n: [1, 'x'] } } }), seq: 1 });
      // By time; at the same time, the later appended first.
      expect(await access.listAudit()).toEqual([second, third, first]);
      expect(await another().access().listAudit()).toEqual([second, third, first]);
      // What is handed out is a copy.
      (await access.listAudit())[2]!.detail['run'] = 'tampered';
      first.detail['run'] = 'tampered too';
      expect((await access.listAudit({ limit: 3 }))[2]!.detail).toEqual({ run: 'run-1', nested: { n: [1, 'x'] } });
    });

    it('filters the audit log by actor, action, since, until and limit (100 when not given)', async () => {
      const access = ledger.access();
      const at = (minute: number): string => new Date(Date.UTC(2026, 0, 1, 10, minute)).toISOString();
      await access.appendAudit(entry({ at: at(0) }));
      await access.appendAudit(entry({ at: at(1), actor: 'jwt:bob', action: 'rollback' }));
      await access.appendAudit(entry({ at: at(2), action: 'token-create', role: 'admin' }));
      await access.appendAudit(entry({ at: at(3), actor: 'jwt:bob', result: 'denied', status: 403 }));
      const seqs = async (f: Parameters<typeof access.listAudit>[0]): Promise<number[]> => (await access.listAudit(f)).map((e) => e.seq);
      expect(await seqs({})).toEqual([4, 3, 2, 1]);
      expect(await seqs({ actor: 'jwt:bob' })).toEqual([4, 2]);
      expect(await seqs({ action: 'deploy' })).toEqual([4, 1]);
      expect(await seqs({ actor: 'tok_a', action: 'deploy' })).toEqual([1]);
      expect(await seqs({ since: at(1), until: at(2) })).toEqual([3, 2]);
      expect(await seqs({ since: at(3) })).toEqual([4]);
      expect(await seqs({ until: at(0) })).toEqual([1]);
      expect(await seqs({ limit: 2 })).toEqual([4, 3]);
      expect(await seqs({ limit: 0 })).toEqual([]);
      expect(await seqs({ actor: 'nobody' })).toEqual([]);
      for (let i = 0; i < 100; i++) await access.appendAudit(entry({ at: at(4), action: 'read' }));
      expect(await seqs({})).toEqual(Array.from({ length: 100 }, (_, i) => 104 - i));
      await expect(access.listAudit({ limit: -1 })).rejects.toThrow(InvalidInputError);
      await expect(access.listAudit({ limit: 1.5 })).rejects.toThrow(/the audit log's limit 1.5 is not a count/);
    });

    it('claims a delivery once; another hook, source or id is another delivery; a released one is claimed again', async () => {
      const access = ledger.access();
      expect(await access.claimDelivery(delivery('d1'))).toBe(true);
      expect(await access.claimDelivery(delivery('d1', { event: 'ping', receivedAt: '2026-01-01T10:01:00.000Z' }))).toBe(false);
      expect(await another().access().claimDelivery(delivery('d1'))).toBe(false);
      expect(await access.claimDelivery(delivery('d1', { hookId: '43' }))).toBe(true);
      expect(await access.claimDelivery(delivery('d1', { source: 'gitlab' }))).toBe(true);
      expect(await access.claimDelivery(delivery('d2'))).toBe(true);
      await access.releaseDelivery('github', '42', 'd1');
      expect(await access.claimDelivery(delivery('d1'))).toBe(true);
      expect(await access.claimDelivery(delivery('d1'))).toBe(false);
      // The others stay claimed; releasing what was never claimed does nothing.
      await access.releaseDelivery('github', '42', 'never');
      expect(await access.claimDelivery(delivery('d1', { hookId: '43' }))).toBe(false);
      expect(await access.claimDelivery(delivery('d2'))).toBe(false);
      // Parts that would run together if joined carelessly stay apart.
      expect(await access.claimDelivery(delivery('x'))).toBe(true);
      expect(await access.claimDelivery(delivery('2x', { hookId: '4' }))).toBe(true);
    });

    it('of 20 claims of one delivery at once, from two stores, exactly one wins', async () => {
      const stores = [ledger.access(), another().access()];
      const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % 2]!.claimDelivery(delivery('same'))));
      expect(claims.filter(Boolean)).toHaveLength(1);
    });

    it('totals deployments by service, environment, type and status, their durations in cumulative buckets', async () => {
      const at = (minutes: number, seconds = 0): string => new Date(Date.UTC(2026, 0, 1, 10, minutes, seconds)).toISOString();
      await ledger.registerType('shadow', 'a copy fed the traffic, answering nobody');
      await ledger.recordMany({
        deployments: [
          deployment('d1', { started: at(0), completed: at(5) }), // 300 s
          deployment('d2', { started: at(0), completed: new Date(Date.parse(at(0, 30)) + 500).toISOString() }), // 30.5 s
          deployment('d3', { started: at(0), completed: at(20), status: 'failed' }), // 1200 s
          deployment('d4', { started: at(0), completed: null, status: 'in-progress', type: 'canary' }),
          deployment('d5', { started: at(0), completed: at(1), environment: 'staging' }), // 60 s
          deployment('d6', { started: at(0), completed: at(60), service: 'worker', type: 'shadow' }), // 3600 s
          // Recorded in progress, then completed: one deployment of 60 s.
          deployment('d7', { started: at(10), completed: null, status: 'in-progress' }),
          deployment('d7', { started: at(10), completed: at(11) }),
          // Not deployments: counted nowhere.
          deployment('x1', { operation: 'destroy', started: at(0), completed: at(1) }),
          deployment('x2', { operation: 'restart', started: at(0), completed: at(1) }),
          deployment('x3', { operation: 'drift', type: DRIFT_TYPE, started: at(0), completed: at(1) }),
        ],
        rollbacks: [
          rollback('r1'),
          rollback('r2'),
          rollback('r3', { environment: 'staging' }),
          rollback('r4', { service: 'worker', deploymentId: 'd6' }),
        ],
      });
      const group = (over: Partial<DeploymentTotals>): DeploymentTotals => ({
        service: 'api',
        environment: 'prod',
        type: 'big-bang',
        status: 'success',
        count: 1,
        buckets: [0, 0, 0, 0, 0],
        durationCount: 1,
        durationSum: 0,
        ...over,
      });
      expect(await ledger.deploymentTotals([30, 60, 300, 900, Infinity])).toEqual([
        group({ status: 'failed', buckets: [0, 0, 0, 0, 1], durationSum: 1200 }),
        group({ count: 3, buckets: [0, 2, 3, 3, 3], durationCount: 3, durationSum: 390.5 }),
        group({ type: 'canary', status: 'in-progress', durationCount: 0 }),
        group({ environment: 'staging', buckets: [0, 1, 1, 1, 1], durationSum: 60 }),
        group({ service: 'worker', type: 'shadow', buckets: [0, 0, 0, 0, 1], durationSum: 3600 }),
      ]);
      // No buckets asked: counts and sums alone.
      expect((await ledger.deploymentTotals([])).map((g) => [g.count, g.buckets, g.durationCount])).toEqual([
        [1, [], 1],
        [3, [], 3],
        [1, [], 0],
        [1, [], 1],
        [1, [], 1],
      ]);
      expect(await ledger.rollbackTotals()).toEqual([
        { service: 'api', environment: 'prod', count: 2 },
        { service: 'api', environment: 'staging', count: 1 },
        { service: 'worker', environment: 'prod', count: 1 },
      ]);
      await expect(ledger.deploymentTotals([60, Number.NaN])).rejects.toThrow(/the duration bucket NaN is not a number of seconds/);
      // Durations are counted at the ledger's bounds (those GET /metrics exports): another bound is refused, not guessed.
      await expect(ledger.deploymentTotals([30.5])).rejects.toThrow(/the ledger does not count durations at 30.5 s/);
    });

    it('a deployment written again is totalled as its last write says, once', async () => {
      await ledger.recordDeployment(deployment('d1', { status: 'in-progress', completed: null }));
      await ledger.recordDeployment(deployment('d1', { completed: '2025-03-01T10:00:14.250Z' }));
      await ledger.recordDeployment(deployment('d2', { status: 'failed', completed: '2025-03-01T10:00:20.000Z' }));
      await ledger.recordDeployment(deployment('d2', { status: 'rolled-back', completed: '2025-03-01T10:00:20.000Z' }));
      expect(
        (await ledger.deploymentTotals([5, 15, 30])).map((t) => [t.status, t.count, t.buckets, t.durationCount, t.durationSum]),
      ).toEqual([
        ['rolled-back', 1, [0, 0, 1], 1, 20],
        ['success', 1, [0, 1, 1], 1, 14.25],
      ]);
    });

    it('an empty ledger has no totals', async () => {
      expect(await ledger.deploymentTotals([5, 15])).toEqual([]);
      expect(await ledger.rollbackTotals()).toEqual([]);
    });

    it('once the ledger is closed, refuses to be used', async () => {
      const access = ledger.access();
      await access.createToken(token('tok_a'), hashOf('a'));
      await ledger.close();
      await expect(access.createToken(token('tok_b'), hashOf('b'))).rejects.toThrow();
      await expect(access.tokenByHash(hashOf('a'))).rejects.toThrow();
      await expect(access.listTokens()).rejects.toThrow();
      await expect(access.revokeToken('tok_a', '2026-01-03T00:00:00.000Z')).rejects.toThrow();
      await expect(access.appendAudit(entry())).rejects.toThrow();
      await expect(access.listAudit()).rejects.toThrow();
      await expect(access.claimDelivery(delivery('d1'))).rejects.toThrow();
      await expect(access.releaseDelivery('github', '42', 'd1')).rejects.toThrow();
      await expect(ledger.deploymentTotals([5])).rejects.toThrow();
      await expect(ledger.rollbackTotals()).rejects.toThrow();
    });
  });
}

/** What the SQL stores' databases do themselves: the audit log refuses changes; a ledger of schema version 8 gets the tables. */
export function accessSqlContract(name: string, make: () => Promise<SqlLedgerUnderTest>): void {
  describe(`AccessStore SQL contract: ${name}`, () => {
    let db: SqlLedgerUnderTest;
    const opened: LedgerStore[] = [];
    const open = (): LedgerStore => {
      const l = db.open();
      opened.push(l);
      return l;
    };
    beforeEach(async () => {
      db = await make();
    });
    afterEach(async () => {
      for (const l of opened.splice(0)) await l.close();
      await db.cleanup();
    });

    it('the database refuses an UPDATE or a DELETE of the audit log, whoever asks', async () => {
      const access = open().access();
      await access.appendAudit(entry());
      await access.appendAudit(entry({ action: 'rollback' }));
      await expect(db.exec(`UPDATE audit_log SET result = 'ok', status = 200 WHERE seq = 2`)).rejects.toThrow(/audit_log is append-only/);
      await expect(db.exec('DELETE FROM audit_log WHERE seq = 1')).rejects.toThrow(/audit_log is append-only/);
      await expect(db.exec('DELETE FROM audit_log')).rejects.toThrow(/audit_log is append-only/);
      expect((await access.listAudit()).map((e) => [e.seq, e.action])).toEqual([
        [2, 'rollback'],
        [1, 'deploy'],
      ]);
      // Still appended to.
      expect((await access.appendAudit(entry())).seq).toBe(3);
    });

    it('a ledger at schema version 8 (before migration 9) gets the tables, its records intact', async () => {
      const first = open();
      await first.recordDeployment(deployment('d1'));
      await first.close();
      await db.exec(DROP_ACCESS_TABLES);
      await db.setSchemaVersion(8);
      const upgraded = open();
      expect(await upgraded.listDeployments()).toEqual([deployment('d1')]);
      expect(await upgraded.verify()).toEqual({ ok: true, rows: 1, problems: [] });
      const access = upgraded.access();
      await access.createToken(token('tok_a'), hashOf('a'));
      expect(await access.tokenByHash(hashOf('a'))).toEqual(token('tok_a'));
      expect((await access.appendAudit(entry())).seq).toBe(1);
      expect(await access.claimDelivery(delivery('d1'))).toBe(true);
      // Its audit log is append-only as a new one is.
      await expect(db.exec('DELETE FROM audit_log')).rejects.toThrow(/audit_log is append-only/);
    });
  });
}

/** Migrations 9, 11 and 13 undone: the access tables (their triggers with them), the totals' counters, the recounts (10 and 12 apply again as they are). */
const DROP_ACCESS_TABLES =
  'DROP TABLE api_tokens; DROP TABLE audit_log; DROP TABLE webhook_deliveries; DROP TABLE deployment_durations; ALTER TABLE ledger_head DROP COLUMN recounts;';

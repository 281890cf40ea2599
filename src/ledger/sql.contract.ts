/**
 * What both SQL ledgers (SQLite, PostgreSQL) must do beyond the LedgerStore contract: keep what
 * was recorded for the next process that opens the database, and find and name, in `verify`,
 * what was done to the tables behind the ledger's back with plain SQL (the same statements in
 * both dialects).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LedgerTamperedError } from '../errors.js';
import { deployment, failureRestoredAndCommitShipped, rollback } from './ledger.contract.js';
import { queryMetric } from './metric-query.js';
import type { MetricName } from './metrics.js';
import type { LedgerBatch, LedgerStore } from './store.js';

/** A new, empty database of one kind: a store on it, raw SQL on it, and what removes it. */
export interface SqlLedgerUnderTest {
  /** A new store on the database (as another process would open it). */
  open(): LedgerStore;
  /** Runs `sql` on the database directly, as someone with its file or password could. */
  exec(sql: string): Promise<void>;
  /** Says the database is at schema version `version` (as a ledger of an older deployer would be). */
  setSchemaVersion(version: number): Promise<void>;
  cleanup(): Promise<void>;
}

export function sqlLedgerContract(name: string, make: () => Promise<SqlLedgerUnderTest>): void {
  describe(`SQL ledger contract: ${name}`, () => {
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

    it('what one store recorded, the next one opened on the database lists', async () => {
      const first = open();
      await first.recordDeployment(deployment('d1'));
      await first.recordRollback(rollback('r1'));
      await first.close();
      const again = open();
      expect(await again.listDeployments()).toEqual([deployment('d1')]);
      expect(await again.listRollbacks()).toEqual([rollback('r1')]);
      expect(await again.verify()).toEqual({ ok: true, rows: 2, problems: [] });
    });

    /** `batch` recorded, then `sql` run on the database and its version set back to `version`; a store opened on it migrates it. */
    async function reopenedFrom(
      version: number,
      sql: string,
      batch: LedgerBatch = failureRestoredAndCommitShipped(),
    ): Promise<LedgerStore> {
      const first = open();
      await first.recordMany(batch);
      await first.close();
      await db.exec(sql);
      await db.setSchemaVersion(version);
      return open();
    }

    it('a ledger written before the aggregates (migration 7) gets them from its records: metrics read the same', async () => {
      const { deployments, rollbacks } = failureRestoredAndCommitShipped();
      const d3 = deployment('d3', {
        status: 'rolled-back',
        service: 'web',
        started: '2025-03-02T10:00:00.000Z',
        completed: '2025-03-02T10:00:00.000Z',
      });
      const upgraded = await reopenedFrom(
        6,
        // Migrations 7, 11, 13 and 14 undone: the aggregates, the totals' counters, the recounts, the bins of every service apart.
        'DROP TABLE metric_counts; DROP TABLE metric_samples; DROP TABLE metric_bins; DROP TABLE metric_bins_all_services; DROP TABLE failures; DROP INDEX deployments_restores; DROP TABLE deployment_durations; ALTER TABLE ledger_head DROP COLUMN recounts;',
        { deployments: [...deployments, d3], rollbacks },
      );
      const window = { from: '2025-03-01T00:00:00.000Z', to: '2025-03-31T23:59:59.999Z' };
      const ask = (metric: MetricName) => queryMetric(upgraded, { metric, window, timeZone: 'UTC' });
      // d1 failed at 10:05 and r1 restored it at 11:00; d3 (web) has no restore yet; d2 shipped c1 two hours after its commit.
      expect(await ask('mttr')).toMatchObject([{ value: 3300, counted: 1, notes: ['1 failed deployment(s) not recovered yet'] }]);
      expect(await ask('lead-time')).toMatchObject([{ value: 7200, counted: 1 }]);
      expect(await ask('change-failure-rate')).toMatchObject([{ value: (100 * 2) / 3, counted: 3 }]);
      // And kept from then on: a restore of web ends d3's failure.
      await upgraded.recordDeployment(
        deployment('d4', { service: 'web', started: '2025-03-02T11:00:00.000Z', completed: '2025-03-02T11:30:00.000Z' }),
      );
      expect(await ask('mttr')).toMatchObject([{ value: (3300 + 5400) / 2, counted: 2, notes: [] }]);
    });

    /** The layout of migrations 7 to 13: the bins of every service were rows of service '' in metric_bins. */
    const OLD_LAYOUT = `INSERT INTO metric_bins (metric, service, environment, month, bin, count)
      SELECT metric, '', environment, month, bin, count FROM metric_bins_all_services;`;

    for (const [layout, sql] of [
      ['in the layout of migrations 7 to 13', `${OLD_LAYOUT} DROP TABLE metric_bins_all_services;`],
      // Migration 7 made the table and filled it; the run stopped before 14, and an older deployer recounted in its layout.
      ["in both layouts at once, the new table's counts stale", `${OLD_LAYOUT} UPDATE metric_bins_all_services SET count = count + 5;`],
    ] as const) {
      it(`a ledger whose bins of every service are ${layout} (before migration 14) has them counted apart: metrics read the same`, async () => {
        const upgraded = await reopenedFrom(13, sql);
        const window = { from: '2025-03-01T00:00:00.000Z', to: '2025-03-31T23:59:59.999Z' };
        const ask = (metric: MetricName) => queryMetric(upgraded, { metric, window, timeZone: 'UTC' });
        expect(await ask('lead-time')).toMatchObject([{ value: 7200, counted: 1 }]);
        expect(await ask('mttr')).toMatchObject([{ value: 3300, counted: 1 }]);
        // Counted apart, nothing left behind: a recount of the records finds every table as it is.
        expect((await upgraded.recountAggregates({ keep: false })).filter((d) => d.differingRows > 0)).toEqual([]);
      });
    }

    it('aggregates a writer did not keep (an older deployer) are named by a recount, mended when it is kept, and the metrics read true again', async () => {
      const l = open();
      const { deployments, rollbacks } = failureRestoredAndCommitShipped();
      // A record whose id is empty is counted by writes, and by the recount too.
      const unnamed = deployment('', { status: 'failed', started: '2025-03-01T10:30:00.000Z', completed: '2025-03-01T10:35:00.000Z' });
      await l.recordMany({ deployments: [...deployments, unnamed], rollbacks });
      const rowsThatDiffer = async (keep: boolean) =>
        Object.fromEntries((await l.recountAggregates({ keep })).map((d) => [d.table, d.differingRows]));
      const none = {
        metric_counts: 0,
        metric_bins: 0,
        metric_bins_all_services: 0,
        metric_samples: 0,
        failures: 0,
        deployment_durations: 0,
      };
      expect(await rowsThatDiffer(false)).toEqual(none);
      // d5 written by a writer that knew no aggregates: a success shipping c5, committed an hour before it completed;
      // and d1's failure taken away behind the ledger's back.
      await db.exec(
        `INSERT INTO deployments (id, stack, service, version, environment, type, started, completed, status, initiator, metadata, parent_id, operation)
         VALUES ('d5', 'web', 'api', 'v5', 'prod', 'big-bang', '2025-03-05T10:00:00.000Z', '2025-03-05T10:05:00.000Z', 'success', 'old@host',
                 '{"changes":[{"commit":"c5","committedAt":"2025-03-05T09:05:00.000Z"}]}', NULL, 'deploy')`,
      );
      await db.exec(`DELETE FROM failures WHERE deployment_id = 'd1'`);
      const window = { from: '2025-03-01T00:00:00.000Z', to: '2025-03-31T23:59:59.999Z' };
      const ask = (metric: MetricName) => queryMetric(l, { metric, window, timeZone: 'UTC' });
      expect(await ask('lead-time')).toMatchObject([{ value: 7200, counted: 1 }]);
      // d2's status counter and duration bucket (d5 shares them), d5's sample, its bin for api and for every service, d1's failure.
      const stale = {
        metric_counts: 1,
        metric_bins: 1,
        metric_bins_all_services: 1,
        metric_samples: 1,
        failures: 1,
        deployment_durations: 1,
      };
      expect(await rowsThatDiffer(false)).toEqual(stale);
      // A check changed nothing: the same differences, the same metric.
      expect(await ask('lead-time')).toMatchObject([{ value: 7200, counted: 1 }]);
      expect(await rowsThatDiffer(true)).toEqual(stale);
      expect(await ask('lead-time')).toMatchObject([{ value: (7200 + 3600) / 2, counted: 2 }]);
      // d1 (failed 10:05) and the unnamed one (10:35) restored by r1 at 11:00.
      expect(await ask('mttr')).toMatchObject([{ value: (3300 + 1500) / 2, counted: 2 }]);
      expect(await rowsThatDiffer(false)).toEqual(none);
    });

    /** Four rows (d1 twice, r1, d2); then `sql` behind the ledger's back; then a new store verifies. */
    async function tampered(...sql: string[]) {
      const l = open();
      await l.recordDeployment(deployment('d1', { status: 'in-progress', completed: null }));
      await l.recordRollback(rollback('r1'));
      await l.recordDeployment(deployment('d1'));
      await l.recordDeployment(deployment('d2'));
      await l.close();
      for (const s of sql) await db.exec(s);
      return open().verify();
    }
    const messages = (v: { problems: Array<{ message: string }> }): string[] => v.problems.map((p) => p.message);

    it('a history of more rows than verify reads at once (12,000) verifies, and what was done past the first rows is named', async () => {
      const l = open();
      const ids = Array.from({ length: 12_000 }, (_, i) => `d${String(i).padStart(5, '0')}`);
      await l.recordMany({ deployments: ids.map((id) => deployment(id)) });
      expect(await l.verify()).toEqual({ ok: true, rows: 12_000, problems: [] });
      await db.exec(`UPDATE ledger_rows SET body = replace(body, '"api"', '"payments"') WHERE seq = 11000`);
      await db.exec(`DELETE FROM deployments WHERE id = 'd11999'`);
      expect(messages(await l.verify())).toEqual([
        'row 11000 (deployment d10999, revision 1) was changed after it was written',
        'deployment d10999 no longer says what its last write (row 11000) recorded: it was changed',
        'deployment d11999 is in the history (row 12000) but no longer in the ledger: it was removed',
      ]);
    });

    it('an intact ledger verifies', async () => {
      expect(await tampered()).toEqual({ ok: true, rows: 4, problems: [] });
    });

    it('a row of the history edited is named', async () => {
      const v = await tampered(`UPDATE ledger_rows SET body = replace(body, '"api"', '"payments"') WHERE seq = 2`);
      expect(v.ok).toBe(false);
      expect(messages(v)).toContainEqual('row 2 (rollback r1, revision 1) was changed after it was written');
    });

    it('a row of the history removed, in the middle or at the end, is named', async () => {
      const middle = await tampered('DELETE FROM ledger_rows WHERE seq = 2');
      expect(messages(middle)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^row 2 is missing: the row after row 1 is numbered 3 \(deployment d1\)/)]),
      );
    });

    it('the last row of the history removed is found by the head', async () => {
      const end = await tampered('DELETE FROM ledger_rows WHERE seq = 4');
      expect(messages(end)).toEqual(expect.arrayContaining([expect.stringMatching(/the history ends at row 3, but 4 rows were written/)]));
    });

    it('a current record edited without its history is named', async () => {
      const edited = await tampered(`UPDATE deployments SET status = 'failed' WHERE id = 'd1'`);
      expect(messages(edited)).toEqual(['deployment d1 no longer says what its last write (row 3) recorded: it was changed']);
    });

    it('a current record removed without its history is named', async () => {
      const removed = await tampered(`DELETE FROM rollbacks WHERE id = 'r1'`);
      expect(messages(removed)).toEqual(['rollback r1 is in the history (row 2) but no longer in the ledger: it was removed']);
    });

    it('a record removed behind its back is refused when written again, as the ledger tampered with, and nothing is written', async () => {
      await tampered(`DELETE FROM deployments WHERE id = 'd1'`);
      const l = open();
      const refused = await l.recordDeployment(deployment('d1', { version: 'v9' })).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(LedgerTamperedError);
      expect((refused as LedgerTamperedError).details.join(' ')).toMatch(
        /Nothing was recorded. `deployer ledger verify` names what was changed/,
      );
      // Its history as it was: the removal still named, no fifth row.
      expect(await l.verify()).toMatchObject({ ok: false, rows: 4 });
      expect((await l.listDeployments()).map((d) => d.id)).toEqual(['d2']);
      await l.close();
    });

    it('a row put before the first one of the history is named', async () => {
      const v = await tampered(
        `INSERT INTO ledger_rows (seq, kind, record_id, revision, body, recorded_at, prev_hash, hash) VALUES (0, 'deployment', 'd0', 1, '{}', 'x', 'x', 'x')`,
      );
      expect(messages(v)).toContainEqual('row 1 is missing: the row after row 0 is numbered 0 (deployment d0)');
    });

    it('records added without their history are named newest first', async () => {
      const insert = (id: string, started: string) =>
        `INSERT INTO deployments (id, stack, service, version, environment, type, started, status, initiator) VALUES ('${id}', 's', 'x', 'v', 'e', 'big-bang', '${started}', 'success', 'i')`;
      const added = await tampered(insert('x-old', '2020-01-01T00:00:00.000Z'), insert('x-new', '2030-01-01T00:00:00.000Z'));
      expect(messages(added)).toEqual([
        "deployment x-new is in the ledger but in no row of its history: it was added behind the ledger's back",
        "deployment x-old is in the ledger but in no row of its history: it was added behind the ledger's back",
      ]);
    });

    it('a record added without its history is named', async () => {
      const added = await tampered(
        `INSERT INTO rollbacks (id, stack, service, environment, from_version, to_version, reason, at) VALUES ('r 9', 's', 'x', 'e', 'a', 'b', 'c', 'd')`,
      );
      expect(messages(added)).toEqual([
        "rollback r 9 is in the ledger but in no row of its history: it was added behind the ledger's back",
      ]);
    });
  });
}

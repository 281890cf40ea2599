/**
 * The StateStore contract (see store.ts), run against every implementation the way
 * Terraform runs one backend test suite against each remote-state backend.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateCorruptError } from '../errors.js';
import type { ComponentState, StackState } from '../model/state.js';
import type { BlobStore } from './blobs.js';
import { StateConflictError } from './conflict.js';
import { emptyState } from './index.js';
import { HISTORY_KEEP_AT_LEAST, HISTORY_RETENTION_DAYS, prunableHistory, type HistoryEntry, type StateStore } from './store.js';

export interface StoreUnderTest {
  store: StateStore;
  /** The backend's objects under the store (to damage them as a cut-short write or a hand edit would). */
  blobs: BlobStore;
  /** Another store over the same objects whose clock reads `now()` (retention is measured with it). */
  withClock: (now: () => Date) => StateStore;
  cleanup?: () => Promise<void>;
}

/** A component record whose `deploymentId` tells versions apart. */
export function component(deploymentId: string): ComponentState {
  return {
    kind: 'MicroService',
    target: 'local',
    specHash: `spec-${deploymentId}`,
    inputsHash: `inputs-${deploymentId}`,
    spec: { image: `app:${deploymentId}` },
    outputs: { url: `http://localhost/${deploymentId}` },
    dependsOn: [],
    pulumiStack: `web-prod-${deploymentId}`,
    status: 'deployed',
    deploymentId,
    updatedAt: '2025-01-01T00:00:00.000Z',
  };
}

/** `state` with one more component, as a run derives the next version from the stored one. */
export function withComponent(state: StackState, id: string, deploymentId = id): StackState {
  return { ...state, components: { ...state.components, [id]: component(deploymentId) } };
}

const DAY = 24 * 3600 * 1000;

export function stateStoreContract(name: string, make: () => Promise<StoreUnderTest>): void {
  describe(`StateStore contract: ${name}`, () => {
    let store: StateStore;
    let blobs: BlobStore;
    let withClock: StoreUnderTest['withClock'];
    let cleanup: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      ({ store, blobs, withClock, cleanup } = await make());
    });

    /** Writes versions 1..n of web/prod; returns the last one stored. */
    const writeVersions = async (n: number): Promise<StackState> => {
      let current = await store.write(withComponent(emptyState('web', 'prod'), 'api', 'd1'));
      for (let i = 2; i <= n; i++) current = await store.write(withComponent(current, 'api', `d${i}`));
      return current;
    };
    afterEach(async () => {
      await cleanup?.();
    });

    it('reads a never-written stack as undefined, with no history', async () => {
      expect(await store.read('web', 'prod')).toBeUndefined();
      expect(await store.history('web', 'prod')).toEqual([]);
      expect(await store.readVersion('web', 'prod', 1)).toBeUndefined();
    });

    it('stores the first write, based on serial 0, as serial 1 and returns what it stored', async () => {
      const first = withComponent(emptyState('web', 'prod'), 'api');
      const stored = await store.write(first);
      expect(stored).toEqual({ ...first, serial: 1 });
      expect(await store.read('web', 'prod')).toEqual(stored);
    });

    it('refuses a first write that is not based on serial 0', async () => {
      const bogus = { ...emptyState('web', 'prod'), serial: 3 };
      await expect(store.write(bogus)).rejects.toBeInstanceOf(StateConflictError);
      expect(await store.read('web', 'prod')).toBeUndefined();
    });

    it('increments the serial on every write and keeps the lineage', async () => {
      const initial = emptyState('web', 'prod');
      let current = await store.write(initial);
      for (let i = 2; i <= 4; i++) {
        current = await store.write(withComponent(current, `c${i}`));
        expect(current.serial).toBe(i);
        expect(current.lineage).toBe(initial.lineage);
      }
      const read = await store.read('web', 'prod');
      expect(read?.serial).toBe(4);
      expect(read?.lineage).toBe(initial.lineage);
      expect(Object.keys(read?.components ?? {}).sort()).toEqual(['c2', 'c3', 'c4']);
    });

    it('refuses a write based on a stale serial and changes nothing', async () => {
      const v1 = await store.write(withComponent(emptyState('web', 'prod'), 'api', 'd1'));
      const v2 = await store.write(withComponent(v1, 'api', 'd2'));
      const historyBefore = await store.history('web', 'prod');

      const err = await store.write(withComponent(v1, 'api', 'stale')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StateConflictError);
      expect((err as StateConflictError).code).toBe('STATE_CONFLICT');

      expect(await store.read('web', 'prod')).toEqual(v2);
      expect((await store.history('web', 'prod')).map((h) => h.serial)).toEqual(historyBefore.map((h) => h.serial));
      // A write from the future is refused too.
      await expect(store.write({ ...v2, serial: v2.serial + 5 })).rejects.toBeInstanceOf(StateConflictError);
      expect(await store.read('web', 'prod')).toEqual(v2);
    });

    it('refuses a write of another lineage and changes nothing', async () => {
      const v1 = await store.write(withComponent(emptyState('web', 'prod'), 'api'));
      const foreign = { ...withComponent(emptyState('web', 'prod'), 'intruder'), serial: v1.serial };
      await expect(store.write(foreign)).rejects.toBeInstanceOf(StateConflictError);
      expect(await store.read('web', 'prod')).toEqual(v1);
      expect(await store.history('web', 'prod')).toEqual([]);
    });

    it('keeps every previous version in history and reads any version back', async () => {
      const v1 = await store.write(withComponent(emptyState('web', 'prod'), 'api', 'd1'));
      const v2 = await store.write(withComponent(v1, 'api', 'd2'));
      const v3 = await store.write(withComponent(v2, 'db', 'd3'));

      const history = await store.history('web', 'prod');
      expect(history.map((h) => h.serial)).toEqual([1, 2]);
      for (const h of history) expect(h.savedAt).toBeInstanceOf(Date);

      expect(await store.readVersion('web', 'prod', 1)).toEqual(v1);
      expect(await store.readVersion('web', 'prod', 2)).toEqual(v2);
      expect(await store.readVersion('web', 'prod', 3)).toEqual(v3);
      expect(await store.readVersion('web', 'prod', 4)).toBeUndefined();
      expect((await store.readVersion('web', 'prod', 1))?.components['api']?.deploymentId).toBe('d1');
    });

    it('keeps stacks and environments independent', async () => {
      const prod = await store.write(withComponent(emptyState('web', 'prod'), 'api', 'web-prod'));
      const staging = await store.write(withComponent(emptyState('web', 'staging'), 'api', 'web-staging'));
      const other = await store.write(withComponent(emptyState('billing', 'prod'), 'api', 'billing-prod'));
      await store.write(withComponent(prod, 'db'));

      expect((await store.read('web', 'prod'))?.serial).toBe(2);
      expect(await store.read('web', 'staging')).toEqual(staging);
      expect(await store.read('billing', 'prod')).toEqual(other);
      expect(await store.read('billing', 'staging')).toBeUndefined();
      expect(await store.history('web', 'staging')).toEqual([]);
      expect(await store.history('billing', 'prod')).toEqual([]);
      expect((await store.history('web', 'prod')).map((h) => h.serial)).toEqual([1]);
      // Each stack/environment has its own lineage: a state of one cannot overwrite another.
      await expect(store.write({ ...staging, environment: 'prod', serial: 2 })).rejects.toBeInstanceOf(StateConflictError);
    });

    it('prunes its own history: older than the retention period, beyond the newest ten', async () => {
      const v13 = await writeVersions(13);
      const later = (days: number) => withClock(() => new Date(Date.now() + days * DAY));
      // Not yet old enough: every version stays.
      const v14 = await later(HISTORY_RETENTION_DAYS - 1).write(withComponent(v13, 'db'));
      expect((await store.history('web', 'prod')).map((h) => h.serial)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
      // Past the retention: all but the newest ten go, and cannot be read back.
      await later(HISTORY_RETENTION_DAYS + 1).write(withComponent(v14, 'cache'));
      expect((await store.history('web', 'prod')).map((h) => h.serial)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
      expect(await store.readVersion('web', 'prod', 4)).toBeUndefined();
      expect((await store.readVersion('web', 'prod', 5))?.components['api']?.deploymentId).toBe('d5');
      expect((await blobs.list('stacks/web/prod/history/')).map((b) => b.key).filter((k) => /\/[1-4]\.json/.test(k))).toEqual([]);
    });

    it('refuses to read or write over a current state cut short, and says how to recover', async () => {
      const v3 = await writeVersions(3);
      const body = (await blobs.get('stacks/web/prod/state.json'))!;
      await blobs.put('stacks/web/prod/state.json', body.subarray(0, body.length >> 1));
      const err = await store.read('web', 'prod').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StateCorruptError);
      expect((err as StateCorruptError).details.join('\n')).toMatch(/deployer state recover .*--stack web -e prod/);
      await expect(store.write(withComponent(v3, 'db'))).rejects.toBeInstanceOf(StateCorruptError);
      // History stays readable.
      expect((await store.history('web', 'prod')).map((h) => h.serial)).toEqual([1, 2]);
      expect((await store.readVersion('web', 'prod', 2))?.components['api']?.deploymentId).toBe('d2');
    });

    it('restores a verified version over a damaged current state, setting the damaged one aside', async () => {
      await writeVersions(3);
      await blobs.put('stacks/web/prod/state.json', '{"version": 1, "serial": 3, "compo');
      const v2 = (await store.readVersion('web', 'prod', 2))!;
      const { stored, damagedKeptAt } = await store.restore('web', 'prod', v2);
      // Above every serial known, the damaged one's included: a plan saved against it stays stale.
      expect(stored.serial).toBe(4);
      expect(stored.lineage).toBe(v2.lineage);
      expect(await store.read('web', 'prod')).toEqual(stored);
      expect(stored.components['api']?.deploymentId).toBe('d2');
      expect(damagedKeptAt).toMatch(/damaged/);
      const kept = (await blobs.list('stacks/web/prod/damaged/'))[0]!;
      expect((await blobs.get(kept.key))!.toString('utf8')).toBe('{"version": 1, "serial": 3, "compo');
      // And the run goes on from there.
      expect((await store.write(withComponent(stored, 'db'))).serial).toBe(5);
    });

    it('restores over an intact current state as a write would: the current one goes to history', async () => {
      const v3 = await writeVersions(3);
      const v1 = (await store.readVersion('web', 'prod', 1))!;
      const { stored, damagedKeptAt } = await store.restore('web', 'prod', v1);
      expect(damagedKeptAt).toBeUndefined();
      expect(stored.serial).toBe(4);
      expect(await store.readVersion('web', 'prod', 3)).toEqual(v3);
    });

    it('refuses a history version changed after it was written', async () => {
      await writeVersions(3);
      const key = 'stacks/web/prod/history/2.json';
      const edited = JSON.parse((await blobs.get(key))!.toString('utf8')) as StackState;
      edited.components = {};
      await blobs.put(key, JSON.stringify(edited, null, 2));
      await expect(store.readVersion('web', 'prod', 2)).rejects.toBeInstanceOf(StateCorruptError);
      expect((await store.readVersion('web', 'prod', 1))?.serial).toBe(1);
    });

    it('gives each stack and environment its own Pulumi backend', () => {
      const urls = new Set([
        store.pulumiBackend('web', 'prod'),
        store.pulumiBackend('web', 'staging'),
        store.pulumiBackend('billing', 'prod'),
      ]);
      expect(urls.size).toBe(3);
      // Beside the state: stacks/{stack}/{env}/pulumi (options of an S3 clone may follow the path).
      for (const url of urls) expect(new URL(url).pathname).toMatch(/\/stacks\/[^/]+\/[^/]+\/pulumi$/);
    });
  });

  describe(`history retention (prunableHistory), as ${name} prunes it`, () => {
    const now = new Date('2025-06-01T00:00:00Z');
    const entries = (n: number, ageDays: (serial: number) => number): HistoryEntry[] =>
      Array.from({ length: n }, (_, i) => ({ serial: i + 1, savedAt: new Date(now.getTime() - ageDays(i + 1) * DAY) }));

    it('keeps everything younger than the retention period, however many versions', () => {
      expect(
        prunableHistory(
          entries(50, () => HISTORY_RETENTION_DAYS - 1),
          now,
        ),
      ).toEqual([]);
    });

    it(`keeps at least the newest ${HISTORY_KEEP_AT_LEAST} versions, however old`, () => {
      expect(
        prunableHistory(
          entries(HISTORY_KEEP_AT_LEAST, () => 1000),
          now,
        ),
      ).toEqual([]);
      const pruned = prunableHistory(
        entries(15, () => 1000),
        now,
      );
      expect(pruned.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    });

    it('prunes only versions older than the retention period beyond the newest ten', () => {
      // serials 1..20; serials 1-4 are old, the rest are recent.
      const pruned = prunableHistory(
        entries(20, (s) => (s <= 4 ? HISTORY_RETENTION_DAYS + 1 : 1)),
        now,
      );
      expect(pruned.sort((a, b) => a - b)).toEqual([1, 2, 3, 4]);
    });

    it('orders by serial, not by the order it is given, and does not change its input', () => {
      const given = entries(12, () => 200).reverse();
      const copy = given.map((e) => ({ ...e }));
      expect(prunableHistory(given, now).sort((a, b) => a - b)).toEqual([1, 2]);
      expect(given).toEqual(copy);
    });
  });
}

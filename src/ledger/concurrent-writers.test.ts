/**
 * Two processes appending 10k deployments each to one ledger at once lose nothing (issue 13):
 * SQLite's writers wait on its busy timeout, PostgreSQL's on the chain head's row lock; every
 * write is listed afterwards and the history is one unbroken chain of 20k rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ledgerRace } from '../../test/helpers/ledger-race.mjs';
import { createTestDatabase } from '../../test/helpers/postgres.js';
import { requireFreshBuild } from '../../test/helpers/lock-race.js';
import { openLedger } from './index.js';

const EACH = 10_000;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function raceAndCount(location: string): Promise<void> {
  requireFreshBuild('ledger');
  const race = await ledgerRace({ location, writers: 2, each: EACH });
  expect(race.codes, race.stderr).toEqual([0, 0]);
  const ledger = openLedger(location);
  try {
    for (const w of ['w0', 'w1']) expect((await ledger.listDeployments({ service: w })).length).toBe(EACH);
    expect(await ledger.verify()).toEqual({ ok: true, rows: 2 * EACH, problems: [] });
  } finally {
    await ledger.close();
  }
}

// SQLite's lock is not fair: under two writers in tight loops one can wait long on a loaded machine (5 s here, over 120 s once on CI).
describe('two processes appending 10k events each at once', { timeout: 900_000 }, () => {
  it('SQLite loses nothing', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-ledger-race-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    await raceAndCount(path.join(dir, 'ledger.db'));
  });

  it('PostgreSQL loses nothing', async () => {
    const db = await createTestDatabase();
    cleanups.push(db.drop);
    await raceAndCount(db.url);
  });
});

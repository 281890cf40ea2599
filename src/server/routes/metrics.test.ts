/** The ledger's totals behind /metrics are read again only when the ledger has changed. */
import { describe, expect, it } from 'vitest';
import { MemoryLedger } from '../../ledger/memory.js';
import { totalsCache } from './metrics.js';

describe('totalsCache', () => {
  it('reads the totals once per ledger revision and bucket set, and again after a write', async () => {
    const ledger = new MemoryLedger();
    let reads = 0;
    const read = ledger.deploymentTotals.bind(ledger);
    ledger.deploymentTotals = (b) => (reads++, read(b));
    const cache = totalsCache(ledger);
    await cache.deploymentTotals([5, 15]);
    await cache.deploymentTotals([5, 15]);
    expect(reads).toBe(1);
    await cache.deploymentTotals([5]);
    expect(reads).toBe(2);
    await ledger.recordDeployment({
      id: 'd',
      stack: 's',
      service: 'api',
      version: '1',
      environment: 'prod',
      type: 'rolling',
      started: '2026-01-01T00:00:00.000Z',
      completed: '2026-01-01T00:00:07.000Z',
      status: 'success',
      initiator: 'me',
      metadata: {},
      parentId: 'r',
    });
    const totals = await cache.deploymentTotals([5]);
    expect(reads).toBe(3);
    expect(totals).toEqual([expect.objectContaining({ service: 'api', count: 1, buckets: [0], durationCount: 1, durationSum: 7 })]);
    expect(await cache.rollbackTotals()).toEqual([]);
  });

  it('keeps no failed read: the next scrape reads again', async () => {
    const ledger = new MemoryLedger();
    let fail = true;
    const read = ledger.rollbackTotals.bind(ledger);
    ledger.rollbackTotals = () => (fail ? Promise.reject(new Error('disk')) : read());
    const cache = totalsCache(ledger);
    await expect(cache.rollbackTotals()).rejects.toThrow('disk');
    fail = false;
    expect(await cache.rollbackTotals()).toEqual([]);
    const failing = new MemoryLedger();
    failing.deploymentTotals = () => Promise.reject(new Error('gone'));
    await expect(totalsCache(failing).deploymentTotals([1])).rejects.toThrow('gone');
  });
});

/** The memory ledger: the LedgerStore contract, and handles that share their records or not. */
import { describe, expect, it } from 'vitest';
import { deployment, ledgerStoreContract, rollback } from './ledger.contract.js';
import { MemoryLedger } from './memory.js';

ledgerStoreContract('memory', async () => ({ ledger: new MemoryLedger() }));

describe('MemoryLedger', () => {
  it('a handle on the same records sees what another recorded, after that one is closed', async () => {
    const first = new MemoryLedger();
    await first.recordDeployment(deployment('d1'));
    await first.recordRollback(rollback('r1'));
    await first.close();
    const again = new MemoryLedger(first.records);
    expect(await again.listDeployments()).toEqual([deployment('d1')]);
    expect(await again.listRollbacks()).toEqual([rollback('r1')]);
  });

  it('keeps separate ledgers separate', async () => {
    const a = new MemoryLedger();
    const b = new MemoryLedger();
    await a.recordDeployment(deployment('d1'));
    expect(await b.listDeployments()).toEqual([]);
  });
});

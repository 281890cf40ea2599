/** The memory ledger's AccessStore: the contract, and handles on the same records sharing what it keeps. */
import { describe, expect, it } from 'vitest';
import { accessStoreContract, delivery, entry, hashOf, token } from './access.contract.js';
import { MemoryLedger } from './memory.js';

accessStoreContract('memory', async () => {
  const ledger = new MemoryLedger();
  return { ledger, other: () => new MemoryLedger(ledger.records) };
});

describe('MemoryLedger access', () => {
  it('a handle on the same records sees what another kept, after that one is closed', async () => {
    const first = new MemoryLedger();
    await first.access().createToken(token('tok_a'), hashOf('a'));
    await first.access().appendAudit(entry());
    expect(await first.access().claimDelivery(delivery('d1'))).toBe(true);
    await first.close();
    const again = new MemoryLedger(first.records);
    expect(await again.access().listTokens()).toEqual([token('tok_a')]);
    expect((await again.access().listAudit()).map((e) => e.seq)).toEqual([1]);
    expect(await again.access().claimDelivery(delivery('d1'))).toBe(false);
  });

  it('keeps separate ledgers separate', async () => {
    const a = new MemoryLedger();
    const b = new MemoryLedger();
    await a.access().createToken(token('tok_a'), hashOf('a'));
    expect(await b.access().listTokens()).toEqual([]);
  });
});

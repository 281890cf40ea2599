/**
 * The group commit of changes: deliveries read in one turn of the event loop share one write,
 * those that come while a write is in flight share the next, each settles once its changes are
 * written, and a failed write fails every delivery in it (and none of the next).
 */
import { describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../ledger/index.js';
import { ChangeWriter } from './change-writer.js';

const change = (commit: string): ChangeEvent => ({
  repo: 'r',
  commit,
  committedAt: '2026-03-01T00:00:00.000Z',
  recordedAt: '2026-03-01T00:00:00.000Z',
  shippedBy: null,
});

/** A ledger whose writes are held until released, in order. */
function heldLedger() {
  const writes: Array<{ commits: string[]; release: (fail?: Error) => void }> = [];
  const ledger = {
    recordChanges: (changes: readonly ChangeEvent[]) =>
      new Promise<number>((resolve, reject) => {
        writes.push({ commits: changes.map((c) => c.commit), release: (fail) => (fail ? reject(fail) : resolve(changes.length)) });
      }),
  };
  return { ledger, writes };
}

/** Lets queued immediates and promise callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

describe('ChangeWriter', () => {
  it('writes the changes of calls made together in one write, and the later ones in the next', async () => {
    const { ledger, writes } = heldLedger();
    const writer = new ChangeWriter(ledger);
    const done: string[] = [];
    const first = [writer.record([change('a')]), writer.record([change('b'), change('c')])].map((p, i) =>
      p.then(() => done.push(`first${i}`)),
    );
    await settle();
    expect(writes.map((w) => w.commits)).toEqual([['a', 'b', 'c']]);
    // Queued while the first write is in flight: they wait for it, then share the next.
    const second = [writer.record([change('d')]), writer.record([change('e')])].map((p, i) => p.then(() => done.push(`second${i}`)));
    await settle();
    expect(writes).toHaveLength(1);
    expect(done).toEqual([]);
    writes[0]!.release();
    await Promise.all(first);
    await settle();
    expect(writes.map((w) => w.commits)).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
    expect(done).toEqual(['first0', 'first1']);
    writes[1]!.release();
    await Promise.all(second);
    expect(done).toEqual(['first0', 'first1', 'second0', 'second1']);
  });

  it('fails every call of a failed write, and none of the next', async () => {
    const { ledger, writes } = heldLedger();
    const writer = new ChangeWriter(ledger);
    const failed = Promise.allSettled([writer.record([change('a')]), writer.record([change('b')])]);
    await settle();
    writes[0]!.release(new Error('disk full'));
    expect((await failed).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const next = writer.record([change('c')]);
    await settle();
    writes[1]!.release();
    await expect(next).resolves.toBeUndefined();
  });
});

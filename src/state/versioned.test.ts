/**
 * A write of the state is several objects (history, digest, body); a full disk or a kill can
 * stop it after any of them. Whichever it is, the state stays readable — the old version or
 * the new one, never a damaged state — and the next write goes on from what is read.
 */
import { describe, expect, it } from 'vitest';
import type { StackState } from '../model/state.js';
import { emptyState } from './index.js';
import { MemoryBlobs } from './memory.js';
import { withComponent } from './store.contract.js';
import { VersionedStateStore } from './versioned.js';

/** Memory objects whose `failAt`-th put from now on fails, as a full disk would make it. */
class FailingBlobs extends MemoryBlobs {
  private puts = 0;
  failAt = Infinity;
  override async put(key: string, body: string | Buffer): Promise<void> {
    if (++this.puts === this.failAt) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    return super.put(key, body);
  }
  arm(nth: number): void {
    this.puts = 0;
    this.failAt = nth;
  }
}

describe('a state write cut short', () => {
  // The puts of a write over an existing version: history (2), digest of both, body, digest of the new.
  it.each([1, 2, 3, 4, 5])('after put %i of the write: the old or the new version reads back, and the next write goes on', async (nth) => {
    const blobs = new FailingBlobs();
    const store = new VersionedStateStore(blobs);
    const v1 = await store.write(withComponent(emptyState('web', 'prod'), 'api', 'd1'));
    blobs.arm(nth);
    const attempt = withComponent(v1, 'api', 'd2');
    const failed = await store.write(attempt).then(
      () => false,
      () => true,
    );
    const read = (await store.read('web', 'prod'))!;
    const wrote = read.serial === 2;
    // The body is the 4th put: up to it the write failed and the old version stays; after it the
    // write has happened (the digest's last step failing does not undo it, nor report it failed).
    expect({ failed, wrote }).toEqual(nth <= 4 ? { failed: true, wrote: false } : { failed: false, wrote: true });
    expect(read.components['api']!.deploymentId).toBe(wrote ? 'd2' : 'd1');
    const next: StackState = withComponent(read, 'db', 'd3');
    expect((await store.write(next)).serial).toBe(read.serial + 1);
  });
});

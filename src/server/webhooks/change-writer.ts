/**
 * Group commit of the changes webhook deliveries record. A push is one small write, and each
 * write to the SQLite ledger is a transaction of its own, whose pages (a random commit id lands
 * on a random page of the changes' index) and WAL frames cost more than the insert itself: under
 * a burst of deliveries that, not the CPU, limits the server (bench/server.js measured 1.8x the
 * throughput with the writes grouped). So the changes of the deliveries that arrive together are
 * written in one `recordChanges` call, one transaction: those queued while a write is in flight
 * go in the next one. Each delivery waits for the write that holds its changes, so it is answered
 * only once they are recorded; a failed write fails every delivery in it (each then releases its
 * claim, so GitHub's redelivery records them).
 */
import type { ChangeEvent, LedgerStore } from '../../ledger/index.js';

interface Waiting {
  changes: readonly ChangeEvent[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** Writes changes to one ledger, grouping the calls that come together. */
export class ChangeWriter {
  private queue: Waiting[] = [];
  /** The write in flight, if any: the next one starts when it ends. */
  private writing: Promise<void> | undefined;
  private scheduled = false;

  constructor(private readonly ledger: Pick<LedgerStore, 'recordChanges'>) {}

  /** Records `changes` (those the ledger has already are kept as they were); settles once they are written. */
  record(changes: readonly ChangeEvent[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ changes, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // After this turn of the event loop, so that the deliveries read in it share the write.
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    await this.writing;
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const write = this.ledger.recordChanges(batch.flatMap((w) => w.changes)).then(
      () => batch.forEach((w) => w.resolve()),
      (e: unknown) => batch.forEach((w) => w.reject(e)),
    );
    this.writing = write;
    await write;
    if (this.writing === write) this.writing = undefined;
  }
}

/**
 * The order of one engine's destroys: a component's stack is destroyed only after the stacks of
 * the components that depended on it (DestroyOptions.after), and not at all when one of those
 * could not be destroyed. Each destroy records how it ended; a destroy waits on those it names.
 */
import { DestroyBlockedError } from '../errors.js';

interface Ending {
  promise: Promise<boolean>;
  resolve: (ok: boolean) => void;
  ended: boolean;
}

export class DestroyOrder {
  private readonly endings = new Map<string, Ending>();

  /** How the latest destroy of `stack` ends (one not started yet: the next one). */
  private endOf(stack: string): Ending {
    let e = this.endings.get(stack);
    if (!e) {
      let resolve!: (ok: boolean) => void;
      const promise = new Promise<boolean>((r) => (resolve = r));
      e = { promise, ended: false, resolve: (ok) => ((e!.ended = true), resolve(ok)) };
      this.endings.set(stack, e);
    }
    return e;
  }

  /** Runs the destroy of `stack`, recording whether it succeeded for the destroys behind it. */
  async track<T>(stack: string, destroy: () => Promise<T>): Promise<T> {
    // A destroy again (a retry, a rollback's): those behind it wait for this one, not the last.
    if (this.endings.get(stack)?.ended) this.endings.delete(stack);
    const ending = this.endOf(stack);
    try {
      const r = await destroy();
      ending.resolve(true);
      return r;
    } catch (err) {
      ending.resolve(false);
      throw err;
    }
  }

  /**
   * Resolves once the destroy of every stack of `after` has ended (each must have been started on
   * this engine); throws DestroyBlockedError naming those that failed, or naming none when `stop`
   * was aborted meanwhile.
   */
  async waitFor(stack: string, after: readonly string[], stop?: AbortSignal): Promise<void> {
    const outcomes = await Promise.all(after.map(async (s) => ({ s, ok: await this.endOf(s).promise })));
    const failed = outcomes.filter((o) => !o.ok).map((o) => o.s);
    if (failed.length > 0) throw new DestroyBlockedError(stack, failed);
    // Handed over early, it really starts only now: a run told to stop starts nothing new.
    if (after.length > 0 && stop?.aborted) throw new DestroyBlockedError(stack, []);
  }
}

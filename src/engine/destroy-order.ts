/**
 * The order of one engine's destroys: a component's stack is destroyed only after the stacks of
 * the components that depended on it (DestroyOptions.after), and not at all when one of those
 * could not be destroyed. Each destroy records how it ended; a destroy waits on those it names.
 */
import { DestroyBlockedError } from '../errors.js';

export class DestroyOrder {
  private readonly ended = new Map<string, { promise: Promise<boolean>; resolve: (ok: boolean) => void }>();

  private endOf(stack: string): { promise: Promise<boolean>; resolve: (ok: boolean) => void } {
    let e = this.ended.get(stack);
    if (!e) {
      let resolve!: (ok: boolean) => void;
      const promise = new Promise<boolean>((r) => (resolve = r));
      this.ended.set(stack, (e = { promise, resolve }));
    }
    return e;
  }

  /** Runs the destroy of `stack`, recording whether it succeeded for the destroys behind it. */
  async track<T>(stack: string, destroy: () => Promise<T>): Promise<T> {
    try {
      const r = await destroy();
      this.endOf(stack).resolve(true);
      return r;
    } catch (err) {
      this.endOf(stack).resolve(false);
      throw err;
    }
  }

  /**
   * Resolves once the destroy of every stack of `after` has ended (each must have been started on
   * this engine); throws DestroyBlockedError naming those that failed.
   */
  async waitFor(stack: string, after: readonly string[]): Promise<void> {
    const outcomes = await Promise.all(after.map(async (s) => ({ s, ok: await this.endOf(s).promise })));
    const failed = outcomes.filter((o) => !o.ok).map((o) => o.s);
    if (failed.length > 0) throw new DestroyBlockedError(stack, failed);
  }
}

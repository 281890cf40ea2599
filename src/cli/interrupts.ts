/**
 * Ctrl-C, SIGTERM and SIGHUP during a run: the first Ctrl-C starts no new component and lets
 * the running ones finish; a second, a SIGTERM (a CI job cancelled, `timeout`) or a SIGHUP (the
 * terminal closed) cancels the running Pulumi operations too. Pulumi runs in a session of its
 * own (engine/session.ts), so these signals reach deployer alone: it cancels the operations
 * itself rather than dying and leaving them to run on.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Interrupts {
  /** Aborted: start no new component. */
  stop: AbortSignal;
  /** Aborted: cancel the running operations too. */
  cancel: AbortSignal;
  /** Stops listening for the signals (always call it when the run ends). */
  dispose(): void;
}

/** Listens for the signals until dispose(); `note` tells the user what a signal did. */
export function listenForInterrupts(note: (text: string) => void): Interrupts {
  const stop = new AbortController();
  const cancel = new AbortController();
  // Every running component's Pulumi operation listens for a cancel: more than Node's default of 10.
  setMaxListeners(0, stop.signal, cancel.signal);
  const onInterrupt = (): void => {
    if (!stop.signal.aborted) {
      stop.abort();
      note('\nInterrupted: finishing the components that are running, starting no more. Press Ctrl-C again to cancel them.\n');
    } else cancel.abort();
  };
  const onTerminate = (signal: NodeJS.Signals): void => {
    note(`\n${signal === 'SIGHUP' ? 'The terminal closed' : 'Terminated'}: cancelling the running components, starting no more.\n`);
    stop.abort();
    cancel.abort();
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onTerminate);
  process.on('SIGHUP', onTerminate);
  return {
    stop: stop.signal,
    cancel: cancel.signal,
    dispose() {
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onTerminate);
      process.off('SIGHUP', onTerminate);
    },
  };
}

/** Runs `tick` every `everyMs` until Ctrl-C or SIGTERM (`services --watch`, `logs --follow`): a signal ends the wait at once. */
export async function everyUntilInterrupted(everyMs: number, tick: () => Promise<void>): Promise<void> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    while (!stop.signal.aborted) {
      await tick();
      await sleep(everyMs, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

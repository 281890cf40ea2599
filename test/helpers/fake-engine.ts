/**
 * A scripted engine for the executor's unit tests: it records every operation in order, and
 * for the stacks the script names it fails, waits on a gate (to act while an operation runs),
 * or produces outputs. It honours the cancel signal as Pulumi does (the operation ends
 * cancelled), and orders destroys by `after` as the real engine does. Also a target whose
 * programs are never run, and settings that name no backend.
 */
import path from 'node:path';
import type { Settings } from '../../src/config/index.js';
import type { ComponentEngine, OperationOptions, ResourceChanges, UpResult } from '../../src/engine/index.js';
import type { DestroyOptions } from '../../src/engine/component-engine.js';
import { DestroyOrder } from '../../src/engine/destroy-order.js';
import { CancelledError, DeployerError } from '../../src/errors.js';
import type { Target } from '../../src/targets/index.js';

export interface Step {
  /** The operation fails with this diagnostic. */
  fail?: string;
  /** The operation waits for this before it ends (or is cancelled). */
  gate?: Promise<void>;
  outputs?: Record<string, unknown>;
}

/** The component id (`svc/comp`) of a stack name `{stack}.{env}.{svc}.{comp}`. */
export const componentOf = (stackName: string): string => stackName.split('.').slice(-2).join('/');

export class FakeEngine implements ComponentEngine {
  operations = 0;
  /** Every operation, in the order it started: `up app/a`, `destroy data/files` ... */
  readonly calls: string[] = [];
  /** Called when an operation starts, before its step runs. */
  onStart: (call: string) => void = () => undefined;

  constructor(public script: (op: 'up' | 'destroy', id: string) => Step | undefined = () => undefined) {}

  private async run(op: 'up' | 'destroy', o: OperationOptions): Promise<void> {
    if (o.signal?.aborted) throw new CancelledError(`${op} of ${o.stackName} cancelled before it started`);
    this.operations++;
    const id = componentOf(o.stackName);
    this.calls.push(`${op} ${id}`);
    this.onStart(`${op} ${id}`);
    const step = this.script(op, id) ?? {};
    if (o.signal?.aborted) throw new CancelledError(`${op} of ${o.stackName} was cancelled`);
    if (step.gate) {
      await new Promise<void>((resolve, reject) => {
        o.signal?.addEventListener('abort', () => reject(new CancelledError(`${op} of ${o.stackName} was cancelled`)), { once: true });
        void step.gate!.then(resolve);
      });
    }
    if (step.fail) throw new DeployerError('ENGINE_FAILED', `pulumi ${op} of ${o.stackName} failed: ${step.fail}`);
  }

  async up(o: OperationOptions): Promise<UpResult> {
    await this.run('up', o);
    const step = this.script('up', componentOf(o.stackName)) ?? {};
    return { outputs: step.outputs ?? { url: `fake://${componentOf(o.stackName)}` }, secretOutputs: [], changes: { update: 1 } };
  }

  /** Destroys honour `after` as the real engine's do (destroy-order.ts). */
  private readonly order = new DestroyOrder();

  destroy(o: DestroyOptions): Promise<ResourceChanges> {
    return this.order.track(o.stackName, async () => {
      await this.order.waitFor(o.stackName, o.after ?? [], o.stop);
      await this.run('destroy', o);
      return { delete: 1 };
    });
  }
}

/** A target that accepts every component and whose programs the fake engine never runs. */
export const fakeTarget: Target = {
  name: 'local',
  canApply: true,
  volatileOutputs: [],
  check: () => [],
  program: () => async () => ({}),
  engineEnv: () => ({}),
};

/** Settings of a run on `dir` (its stores are given to the run, not named here). */
export function settingsFor(dir: string, over: Partial<Settings> = {}): Settings {
  return {
    dir,
    environment: 'dev',
    stack: undefined,
    stateUrl: 'memory://',
    lockUrl: 'memory://',
    concurrency: 8,
    scheduling: 'graph',
    lockTtlMs: 60_000,
    lockTimeoutMs: 0,
    failFast: false,
    ledger: path.join(dir, 'ledger.db'),
    variables: {},
    varFiles: [],
    ...over,
  };
}

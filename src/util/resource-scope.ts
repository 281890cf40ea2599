/**
 * Resource names scoped to a component, so that the programs of several components can run in
 * one Pulumi operation (engine/batch-operation.ts) without their resources' URNs colliding: inside
 * `inResourceScope('shop.dev.api.db', fn)`, a resource a target names `db` is registered as
 * `shop.dev.api.db~db`, and the engine renames it back when it writes the component's own
 * checkpoint. A program opts in with `batchable(program)` once every resource it creates takes its
 * name from `scopedName`; any other program keeps an operation of its own.
 *
 * The scope lives on `globalThis` under a registered symbol: the local target's resource class is
 * always loaded from the compiled file (Pulumi serializes its provider's source), while the engine
 * may be loaded from source by the test runner; both must see one store.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** Between a component's stack name and a resource name; stack names never contain it. */
export const SCOPE_SEPARATOR = '~';

const STORE_KEY = Symbol.for('deployer.resourceScope');
const BATCHABLE = Symbol.for('deployer.batchableProgram');

function store(): AsyncLocalStorage<string> {
  const g = globalThis as unknown as Record<symbol, AsyncLocalStorage<string> | undefined>;
  return (g[STORE_KEY] ??= new AsyncLocalStorage<string>());
}

/** Runs `fn` with resource names scoped to `scope` (a component's stack name). */
export function inResourceScope<T>(scope: string, fn: () => T): T {
  return store().run(scope, fn);
}

/** The name to register a resource under: `name` itself outside a scope. */
export function scopedName(name: string): string {
  const scope = store().getStore();
  return scope === undefined ? name : `${scope}${SCOPE_SEPARATOR}${name}`;
}

/** Marks a program whose resources all take their names from `scopedName`. */
export function batchable<F extends object>(program: F): F {
  Object.defineProperty(program, BATCHABLE, { value: true });
  return program;
}

/** Whether the program may share an operation with others. */
export function isBatchable(program: object): boolean {
  return (program as Record<symbol, unknown>)[BATCHABLE] === true;
}

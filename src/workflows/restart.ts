/**
 * `deployer restart`: a rolling restart of deployed components (seed 003's recovery action),
 * one component after another in dependency order, each back and healthy before the next.
 * Not a deployment: the state and the Pulumi stacks do not change, and the ledger records it as
 * a restart of each service (operation `restart`: listed, counted in no metric); the whole stack
 * is locked so that no run deploys any part of it meanwhile.
 */
import type { Settings } from '../config/index.js';
import { InvalidInputError } from '../errors.js';
import { PROCESS_KINDS } from '../model/stack-infra.js';
import { openStateStore } from '../state/index.js';
import { targetFor } from '../targets/index.js';
import { loadStack } from './load-stack.js';
import { inDependencyOrder, operateOneByOne, type ComponentOutcome } from './service-records.js';

export type RestartResult = ComponentOutcome;

export async function restartComponents(settings: Settings, ids: string[], say: (line: string) => void): Promise<RestartResult[]> {
  const { desired, graph } = await loadStack(settings);
  const target = targetFor(desired.target);
  if (!target.restart) throw new InvalidInputError(`the ${desired.target} target cannot restart components yet`);
  const store = openStateStore(settings.stateUrl, settings.dir);
  const state = await store.read(desired.name, desired.environment);
  const deployed = Object.entries(state?.components ?? {})
    .filter(([, c]) => c.status === 'deployed' && PROCESS_KINDS.has(c.kind))
    .map(([id]) => id);
  const unknown = ids.filter((id) => !state?.components[id]);
  if (unknown.length > 0)
    throw new InvalidInputError(`not deployed in ${desired.name}/${desired.environment}: ${unknown.join(', ')}`, [
      `deployed services: ${deployed.join(', ') || '(none)'}`,
    ]);
  // Stops at the first failure: the old processes still serve; the next ones are left as they are.
  return operateOneByOne(
    settings,
    { stack: desired.name, environment: desired.environment, stackDir: desired.dir, components: state!.components },
    'restart',
    inDependencyOrder(graph.order, ids.length > 0 ? ids : deployed),
    { begins: 'rolling restart', act: (c, context) => target.restart!(c, context), say },
  );
}

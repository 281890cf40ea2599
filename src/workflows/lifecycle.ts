/**
 * `deployer stop|start <service>/<component>...` (seed 003's lifecycle management): takes
 * deployed components' processes down on purpose, or brings them back as deployed. Not a
 * deployment: the state and the Pulumi stacks do not change. The stack is locked meanwhile, as
 * for a restart; each is recorded in the ledger (operation `stop` or `start`), and drift does
 * not report a component stopped this way (it does one whose processes died otherwise).
 * Stops go in reverse dependency order (dependents first), starts in dependency order.
 */
import type { Settings } from '../config/index.js';
import { InvalidInputError } from '../errors.js';
import { whoAmI } from '../lock/index.js';
import { PROCESS_KINDS } from '../model/stack-infra.js';
import { openStateStore } from '../state/index.js';
import { targetFor } from '../targets/index.js';
import type { JobRun, LifecycleAction } from '../targets/target.js';
import { loadStack } from './load-stack.js';
import { inDependencyOrder, operateOneByOne, type ComponentOutcome } from './service-records.js';

/** `deployer run <service>/<cronjob>`: the CronJob run now, outside its schedule; resolves to how the run ended. */
export async function runJob(settings: Settings, id: string): Promise<JobRun> {
  const { desired } = await loadStack(settings);
  const target = targetFor(desired.target);
  if (!target.runJob) throw new InvalidInputError(`the ${desired.target} target cannot run a CronJob on demand`);
  const state = await openStateStore(settings.stateUrl, settings.dir).read(desired.name, desired.environment);
  const c = state?.components[id];
  const jobs = Object.entries(state?.components ?? {}).filter(([, x]) => x.status === 'deployed' && x.kind === 'CronJob');
  if (!c || c.status !== 'deployed' || c.kind !== 'CronJob')
    throw new InvalidInputError(`${id} is not a CronJob deployed in ${desired.name}/${desired.environment}`, [
      `deployed CronJobs: ${jobs.map(([x]) => x).join(', ') || '(none)'}`,
    ]);
  const [service, name] = id.split('/') as [string, string];
  return target.runJob(
    { id, service, name, kind: c.kind },
    { stack: desired.name, environment: desired.environment, stackDir: desired.dir },
  );
}

export async function changeLifecycle(
  settings: Settings,
  action: LifecycleAction,
  ids: readonly string[],
  say: (line: string) => void,
): Promise<ComponentOutcome[]> {
  const { desired, graph } = await loadStack(settings);
  const target = targetFor(desired.target);
  if (!target.lifecycle) throw new InvalidInputError(`the ${desired.target} target cannot ${action} components`);
  if (ids.length === 0) throw new InvalidInputError(`name what to ${action}: deployer ${action} <service>/<component>...`);
  const store = openStateStore(settings.stateUrl, settings.dir);
  const state = await store.read(desired.name, desired.environment);
  const deployed = Object.entries(state?.components ?? {}).filter(([, c]) => c.status === 'deployed');
  const unknown = ids.filter((id) => !deployed.some(([d]) => d === id));
  if (unknown.length > 0)
    throw new InvalidInputError(`not deployed in ${desired.name}/${desired.environment}: ${unknown.join(', ')}`, [
      `deployed: ${deployed.map(([id]) => id).join(', ') || '(none)'}`,
    ]);
  const notRunning = ids.filter((id) => !PROCESS_KINDS.has(state!.components[id]!.kind));
  if (notRunning.length > 0)
    throw new InvalidInputError(`${notRunning.join(', ')}: only a MicroService, a Worker or a CronJob runs processes to ${action}`, [
      'Nothing was stopped or started.',
    ]);
  const inOrder = inDependencyOrder(graph.order, ids);
  const by = whoAmI();
  return operateOneByOne(
    settings,
    { stack: desired.name, environment: desired.environment, stackDir: desired.dir, components: state!.components },
    action,
    action === 'stop' ? inOrder.reverse() : inOrder,
    { begins: action === 'stop' ? 'stopping' : 'starting', act: (c, context) => target.lifecycle!(action, c, context, by), say },
  );
}

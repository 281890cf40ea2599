/**
 * `deployer restart`: a rolling restart of deployed components (seed 003's recovery action),
 * one component after another in dependency order, each back and healthy before the next.
 * Not a deployment: the state and the Pulumi stacks do not change, and the ledger records it as
 * a restart of each service (operation `restart`: listed, counted in no metric); the whole stack
 * is locked so that no run deploys any part of it meanwhile.
 */
import { randomUUID } from 'node:crypto';
import type { Settings } from '../config/index.js';
import { openLedger, type DeploymentEvent } from '../ledger/index.js';
import { whoAmI } from '../lock/index.js';
import type { ComponentState } from '../model/state.js';
import { InvalidInputError } from '../errors.js';
import { openStateStore } from '../state/index.js';
import { targetFor } from '../targets/index.js';
import { loadStack } from './load-stack.js';
import { serviceVersion } from './restore.js';
import { withStackExclusive } from './state-commands.js';

export interface RestartResult {
  id: string;
  ok: boolean;
  message: string;
  durationMs: number;
}

export async function restartComponents(settings: Settings, ids: string[], say: (line: string) => void): Promise<RestartResult[]> {
  const { desired, graph } = await loadStack(settings);
  const target = targetFor(desired.target);
  if (!target.restart) throw new InvalidInputError(`the ${desired.target} target cannot restart components yet`);
  const store = openStateStore(settings.stateUrl, settings.dir);
  const state = await store.read(desired.name, desired.environment);
  const deployed = Object.entries(state?.components ?? {})
    .filter(([, c]) => c.status === 'deployed' && c.kind === 'MicroService')
    .map(([id]) => id);
  const unknown = ids.filter((id) => !state?.components[id]);
  if (unknown.length > 0)
    throw new InvalidInputError(`not deployed in ${desired.name}/${desired.environment}: ${unknown.join(', ')}`, [
      `deployed services: ${deployed.join(', ') || '(none)'}`,
    ]);
  const wanted = new Set(ids.length > 0 ? ids : deployed);
  const order = [...graph.order.filter((id) => wanted.has(id)), ...[...wanted].filter((id) => !graph.order.includes(id))];

  const results: RestartResult[] = [];
  // The whole stack, as a state change takes it: no run may deploy any part of it meanwhile.
  await withStackExclusive({ settings, stack: desired.name, environment: desired.environment }, 'restart', async () => {
    for (const id of order) {
      const c = state!.components[id]!;
      const [service, name] = id.split('/') as [string, string];
      const started = Date.now();
      say(`${id}: rolling restart`);
      try {
        const message = await target.restart!(
          { id, service, name, kind: c.kind },
          { stack: desired.name, environment: desired.environment, stackDir: desired.dir },
        );
        results.push({ id, ok: true, message, durationMs: Date.now() - started });
      } catch (err) {
        if (err instanceof InvalidInputError) throw err; // asked for something that cannot be restarted
        // Stop at the first failure: the old processes still serve; the next ones are left as they are.
        results.push({ id, ok: false, message: (err as Error).message, durationMs: Date.now() - started });
        break;
      }
      say(`${id}: ${results.at(-1)!.message} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
    }
  });
  await recordRestarts(settings, desired.name, desired.environment, state!.components, results);
  return results;
}

/** One `restart` record per service restarted: the version it runs, when, by whom, and each component's outcome. */
async function recordRestarts(
  settings: Settings,
  stack: string,
  environment: string,
  components: Record<string, ComponentState>,
  results: RestartResult[],
): Promise<void> {
  if (results.length === 0) return;
  const runId = randomUUID();
  const completed = new Date().toISOString();
  const services = [...new Set(results.map((r) => r.id.split('/')[0]!))];
  const ledger = openLedger(settings.ledger);
  try {
    await ledger.recordMany({
      deployments: services.map((service): DeploymentEvent => {
        const mine = results.filter((r) => r.id.startsWith(`${service}/`));
        const took = mine.reduce((ms, r) => ms + r.durationMs, 0);
        return {
          id: randomUUID(),
          stack,
          service,
          version: serviceVersion(components, service),
          environment,
          type: 'rolling',
          started: new Date(Date.parse(completed) - took).toISOString(),
          completed,
          status: mine.every((r) => r.ok) ? 'success' : 'failed',
          initiator: whoAmI(),
          metadata: { operation: 'restart', results: Object.fromEntries(mine.map((r) => [r.id, r.ok ? 'restarted' : r.message])) },
          parentId: runId,
          operation: 'restart',
        };
      }),
    });
  } finally {
    await ledger.close();
  }
}

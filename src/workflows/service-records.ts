/**
 * What a command does to deployed services without deploying them (`deployer restart`, `stop`,
 * `start`): one component after another with the whole stack locked, stopping at the first that
 * fails; then the ledger records, one per service, with the version it runs, when, by whom and
 * each component's outcome, under one run id. Listed, counted in no metric.
 */
import { randomUUID } from 'node:crypto';
import type { Settings } from '../config/index.js';
import { InvalidInputError } from '../errors.js';
import { openLedger, type DeploymentEvent } from '../ledger/index.js';
import { whoAmI } from '../lock/index.js';
import type { ComponentState } from '../model/state.js';
import type { TargetContext } from '../targets/target.js';
import { serviceVersion } from './restore.js';
import { withStackExclusive } from './state-commands.js';

/** What the command did to one component. */
export interface ComponentOutcome {
  id: string;
  ok: boolean;
  message: string;
  durationMs: number;
}

/** The components `ids` in the dependency order `order` (any it does not list last, as named). */
export function inDependencyOrder(order: readonly string[], ids: Iterable<string>): string[] {
  const wanted = new Set(ids);
  return [...order.filter((id) => wanted.has(id)), ...[...wanted].filter((id) => !order.includes(id))];
}

/**
 * Does `act` to each component of `ids`, in that order, with the whole stack locked (no run may
 * deploy any part of it meanwhile), saying each as it begins (`begins`) and ends; stops at the
 * first that fails, leaving the rest as they are (a refusal of what was asked, an
 * InvalidInputError, is thrown as it is). Records the outcomes in the ledger as `operation`.
 */
export async function operateOneByOne(
  settings: Settings,
  where: { stack: string; environment: string; stackDir: string; components: Record<string, ComponentState> },
  operation: 'restart' | 'stop' | 'start',
  ids: readonly string[],
  o: {
    begins: string;
    act: (component: { id: string; service: string; name: string; kind: string }, context: TargetContext) => Promise<string>;
    say: (line: string) => void;
  },
): Promise<ComponentOutcome[]> {
  const results: ComponentOutcome[] = [];
  const context: TargetContext = { stack: where.stack, environment: where.environment, stackDir: where.stackDir };
  await withStackExclusive({ settings, stack: where.stack, environment: where.environment }, operation, async () => {
    for (const id of ids) {
      const [service, name] = id.split('/') as [string, string];
      const started = Date.now();
      o.say(`${id}: ${o.begins}`);
      try {
        const message = await o.act({ id, service, name, kind: where.components[id]!.kind }, context);
        results.push({ id, ok: true, message, durationMs: Date.now() - started });
        o.say(`${id}: ${message} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
      } catch (err) {
        if (err instanceof InvalidInputError) throw err; // asked for something it cannot do
        results.push({ id, ok: false, message: (err as Error).message, durationMs: Date.now() - started });
        break;
      }
    }
  });
  await recordServiceOperation(settings, where, operation, results);
  return results;
}

export async function recordServiceOperation(
  settings: Settings,
  where: { stack: string; environment: string; components: Record<string, ComponentState> },
  operation: 'restart' | 'stop' | 'start',
  results: readonly ComponentOutcome[],
): Promise<void> {
  if (results.length === 0) return;
  const runId = randomUUID();
  const completed = new Date().toISOString();
  const done = { restart: 'restarted', stop: 'stopped', start: 'started' }[operation];
  const services = [...new Set(results.map((r) => r.id.split('/')[0]!))];
  const ledger = openLedger(settings.ledger);
  try {
    await ledger.recordMany({
      deployments: services.map((service): DeploymentEvent => {
        const mine = results.filter((r) => r.id.startsWith(`${service}/`));
        const took = mine.reduce((ms, r) => ms + r.durationMs, 0);
        return {
          id: randomUUID(),
          stack: where.stack,
          service,
          version: serviceVersion(where.components, service),
          environment: where.environment,
          // A restart replaces a process at a time; a stop or a start takes all of them at once.
          type: operation === 'restart' ? 'rolling' : 'big-bang',
          started: new Date(Date.parse(completed) - took).toISOString(),
          completed,
          status: mine.every((r) => r.ok) ? 'success' : 'failed',
          initiator: whoAmI(),
          metadata: { operation, results: Object.fromEntries(mine.map((r) => [r.id, r.ok ? done : r.message])) },
          parentId: runId,
          operation,
        };
      }),
    });
  } finally {
    await ledger.close();
  }
}

/**
 * The ledger records of what a command did to deployed services without deploying them
 * (`deployer restart`, `stop`, `start`): one record per service, with the version it runs, when,
 * by whom and each component's outcome, under one run id. Listed, counted in no metric.
 */
import { randomUUID } from 'node:crypto';
import type { Settings } from '../config/index.js';
import { openLedger, type DeploymentEvent } from '../ledger/index.js';
import { whoAmI } from '../lock/index.js';
import type { ComponentState } from '../model/state.js';
import { serviceVersion } from './restore.js';

/** What the command did to one component. */
export interface ComponentOutcome {
  id: string;
  ok: boolean;
  message: string;
  durationMs: number;
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

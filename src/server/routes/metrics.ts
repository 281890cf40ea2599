/**
 * `GET /metrics`: Prometheus text from server/metrics.ts, its sources the ledger's totals, the
 * served stacks' locks and their last drift reports. Public, as scrapers expect: it carries
 * counts by service, environment, type and status, and nothing personal.
 */
import type { FastifyInstance } from 'fastify';
import type { DeploymentTotals, LedgerStore, RollbackTotals } from '../../ledger/store.js';
import type { ServerContext } from '../context.js';
import { lastDrift } from '../drift-status.js';
import { createServerMetrics, type ServerMetrics } from '../metrics.js';

/**
 * The ledger's totals, read again only when the ledger has changed since (its revision, one
 * row to read, changes with every write): Prometheus scrapes every few seconds whether anything
 * was deployed or not, and the totals, though read from counters, are a few thousand rows.
 */
export function totalsCache(ledger: LedgerStore): Pick<LedgerStore, 'deploymentTotals' | 'rollbackTotals'> {
  let deployments: { key: string; totals: Promise<DeploymentTotals[]> } | undefined;
  let rollbacks: { key: string; totals: Promise<RollbackTotals[]> } | undefined;
  return {
    async deploymentTotals(buckets) {
      const key = `${await ledger.revision()} ${buckets.join(',')}`;
      if (deployments?.key !== key) deployments = { key, totals: ledger.deploymentTotals(buckets) };
      const mine = deployments;
      // A failed read is not kept: the next scrape tries again.
      return mine.totals.catch((e: unknown) => {
        if (deployments === mine) deployments = undefined;
        throw e;
      });
    },
    async rollbackTotals() {
      const key = await ledger.revision();
      if (rollbacks?.key !== key) rollbacks = { key, totals: ledger.rollbackTotals() };
      const mine = rollbacks;
      return mine.totals.catch((e: unknown) => {
        if (rollbacks === mine) rollbacks = undefined;
        throw e;
      });
    },
  };
}

/** The server's metrics over `ctx`. */
export function metricsOf(ctx: ServerContext): ServerMetrics {
  return createServerMetrics({
    ledger: totalsCache(ctx.ledger),
    locks: async () => {
      const now = Date.now();
      return (await ctx.catalog.locks()).map((l) => ({
        stack: l.stack,
        environment: l.environment,
        held: l.holder !== null && !l.holder.expired,
        ...(l.holder ? { ageSeconds: (now - Date.parse(l.holder.lockedAt)) / 1000 } : {}),
      }));
    },
    drift: async () =>
      Promise.all(
        ctx.catalog.stacks.flatMap((s) =>
          s.environments.map(async (environment) => ({
            stack: s.name,
            environment,
            components: (await lastDrift(ctx.ledger, s.name, environment))?.drifted ?? 0,
          })),
        ),
      ),
  });
}

export function registerMetricsRoutes(app: FastifyInstance, metrics: ServerMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode, reply.elapsedTime / 1000);
  });
  app.get(
    '/metrics',
    {
      config: { permission: 'public' },
      schema: { summary: 'Prometheus metrics (text format 0.0.4)', tags: ['health'], security: [], produces: ['text/plain'] },
    },
    async (_request, reply) => reply.header('content-type', metrics.contentType).send(await metrics.render()),
  );
}

/**
 * The read side of the API: deployments (with the filters of `ledger list-deployments`), one
 * deployment with its components and what followed it, rollbacks, the DORA metrics (the same
 * query as `ledger show-metrics`), the served stacks with their locks and last drift report,
 * and the runs this server started. Personal data (initiators, as pseudonyms; e-mail addresses
 * and tokens in metadata) is redacted unless the caller may see it unredacted (the auditor).
 */
import type { FastifyInstance } from 'fastify';
import { InvalidInputError } from '../../errors.js';
import { isoTime, type DeploymentEvent } from '../../ledger/index.js';
import { METRIC_NAMES, type MetricName } from '../../ledger/metrics.js';
import { queryMetric, type MetricQuery } from '../../ledger/metric-query.js';
import type { ServerContext } from '../context.js';
import { lastDrift } from '../drift-status.js';
import { errorBody } from '../http-errors.js';
import { shown, shownLock, shownRun } from '../shown.js';
import { deploymentSchema, errorResponses, listQuery, rollbackSchema, runSchema, stackSchema } from './schemas.js';

type ListQuery = {
  stack?: string;
  service?: string;
  environment?: string;
  status?: string;
  type?: string;
  from?: string;
  to?: string;
  limit?: number;
};

function filterOf(q: ListQuery): Record<string, unknown> {
  return {
    ...(q.stack ? { stack: q.stack } : {}),
    ...(q.service ? { service: q.service } : {}),
    ...(q.environment ? { environment: q.environment } : {}),
    ...(q.status ? { status: q.status } : {}),
    ...(q.type ? { type: q.type } : {}),
    ...(q.from ? { since: isoTime('from', q.from) } : {}),
    ...(q.to ? { until: isoTime('to', q.to) } : {}),
    limit: q.limit ?? 100,
  };
}

export function registerReadRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const read = { permission: 'read' } as const;
  app.get<{ Querystring: ListQuery }>(
    '/api/v1/deployments',
    {
      config: read,
      schema: {
        summary: 'Deployments, newest first (the filters of `ledger list-deployments`)',
        tags: ['ledger'],
        querystring: listQuery(true),
        response: { 200: { type: 'object', properties: { deployments: { type: 'array', items: deploymentSchema } } }, ...errorResponses },
      },
    },
    async (request) => ({ deployments: (await ctx.ledger.listDeployments(filterOf(request.query))).map((d) => shown(request, d)) }),
  );
  app.get<{ Params: { id: string } }>(
    '/api/v1/deployments/:id',
    {
      config: read,
      schema: {
        summary: 'One deployment: its components and their results, the other services of its run, and the rollbacks that undid it',
        tags: ['ledger'],
        params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
        response: {
          200: {
            type: 'object',
            properties: {
              deployment: deploymentSchema,
              components: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { id: { type: 'string' }, action: { type: 'string' }, result: { type: 'string', nullable: true } },
                },
              },
              run: { type: 'array', items: deploymentSchema },
              rollbacks: { type: 'array', items: rollbackSchema },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const [d] = await ctx.ledger.listDeployments({ id: request.params.id, limit: 1 });
      if (!d) return reply.status(404).send(errorBody('NOT_FOUND', `no deployment ${request.params.id}`));
      const run = d.parentId ? await ctx.ledger.listDeployments({ parentId: d.parentId }) : [d];
      const rollbacks = await ctx.ledger.listRollbacks({ deploymentId: d.id });
      return {
        deployment: shown(request, d),
        components: componentsOf(d),
        run: run.filter((x) => x.id !== d.id).map((x) => shown(request, x)),
        rollbacks: rollbacks.map((r) => shown(request, r)),
      };
    },
  );
  app.get<{ Querystring: ListQuery }>(
    '/api/v1/rollbacks',
    {
      config: read,
      schema: {
        summary: 'Rollbacks, newest first (the filters of `ledger list-rollbacks`)',
        tags: ['ledger'],
        querystring: listQuery(false),
        response: { 200: { type: 'object', properties: { rollbacks: { type: 'array', items: rollbackSchema } } }, ...errorResponses },
      },
    },
    async (request) => ({ rollbacks: (await ctx.ledger.listRollbacks(filterOf(request.query))).map((r) => shown(request, r)) }),
  );
  registerMetricsRoute(app, ctx);
  registerStackRoutes(app, ctx);
}

/** The components of a deployment, from what its run recorded: the action planned and, once done, the result. */
function componentsOf(d: DeploymentEvent): { id: string; action: string; result: string | null }[] {
  const actions = (d.metadata['actions'] ?? {}) as Record<string, string>;
  const results = (d.metadata['results'] ?? {}) as Record<string, string>;
  const ids = [...new Set([...Object.keys(actions), ...Object.keys(results)])].sort();
  return ids.map((id) => ({ id, action: actions[id] ?? 'unknown', result: results[id] ?? null }));
}

type MetricsQuery = {
  from?: string;
  to?: string;
  service?: string;
  environment?: string;
  groupBy?: 'type' | 'service' | 'environment' | 'week';
};

function registerMetricsRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Querystring: MetricsQuery }>(
    '/api/v1/metrics',
    {
      config: { permission: 'read' },
      schema: {
        summary:
          'The DORA metrics (2023 bands) over a window (default the last 30 days), of production environments unless one is named, optionally grouped',
        tags: ['ledger'],
        querystring: {
          type: 'object',
          properties: {
            from: { type: 'string' },
            to: { type: 'string' },
            service: { type: 'string' },
            environment: { type: 'string', description: 'one environment, or `all`' },
            groupBy: { type: 'string', enum: ['type', 'service', 'environment', 'week'] },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              from: { type: 'string' },
              to: { type: 'string' },
              metrics: { type: 'object', additionalProperties: { type: 'array', items: { type: 'object', additionalProperties: true } } },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const to = q.to ? isoTime('to', q.to) : new Date().toISOString();
      const from = q.from ? isoTime('from', q.from) : new Date(Date.parse(to) - 30 * 86_400_000).toISOString();
      if (from > to) throw new InvalidInputError(`from ${from} is after to ${to}`);
      const base: Omit<MetricQuery, 'metric'> = {
        window: { from, to },
        timeZone: 'UTC',
        environments: q.environment === 'all' ? 'all' : q.environment ? { only: q.environment } : 'production',
        ...(q.service ? { service: q.service } : {}),
        ...(q.groupBy ? { groupBy: q.groupBy } : {}),
      };
      const metrics: Partial<Record<MetricName, unknown>> = {};
      for (const metric of METRIC_NAMES) metrics[metric] = await queryMetric(ctx.ledger, { ...base, metric });
      return { from, to, metrics };
    },
  );
}

function registerStackRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/api/v1/stacks',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'The served stacks, each environment with its lock and its last drift report',
        tags: ['stacks'],
        response: { 200: { type: 'object', properties: { stacks: { type: 'array', items: stackSchema } } }, ...errorResponses },
      },
    },
    async (request) => {
      const locks = await ctx.catalog.locks();
      const stacks = await Promise.all(
        ctx.catalog.stacks.map(async (s) => ({
          name: s.name,
          environments: await Promise.all(
            s.environments.map(async (environment) => {
              const holder = locks.find((l) => l.stack === s.name && l.environment === environment)?.holder;
              return {
                name: environment,
                lock: holder ? shownLock(request, holder) : null,
                drift: await lastDrift(ctx.ledger, s.name, environment),
              };
            }),
          ),
        })),
      );
      return { stacks };
    },
  );
  app.get(
    '/api/v1/runs',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'The runs this server started since it started, newest first',
        tags: ['runs'],
        response: { 200: { type: 'object', properties: { runs: { type: 'array', items: runSchema } } }, ...errorResponses },
      },
    },
    (request) => ({ runs: ctx.runs.list().map((r) => shownRun(request, r)) }),
  );
  app.get<{ Params: { id: string } }>(
    '/api/v1/runs/:id',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'One run: its status, and its summary once ended',
        tags: ['runs'],
        params: { type: 'object', properties: { id: { type: 'string' } } },
        response: { 200: runSchema, ...errorResponses },
      },
    },
    (request, reply) => {
      const run = ctx.runs.get(request.params.id);
      if (run) return shownRun(request, run);
      return reply
        .status(404)
        .send(
          errorBody(
            'NOT_FOUND',
            `no run ${request.params.id} (a server keeps its last 200 runs until it stops; the ledger keeps every deployment)`,
          ),
        );
    },
  );
}

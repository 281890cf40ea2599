/**
 * The acting side of the API: start a deployment (`POST /api/v1/deploy`) or the rollback of a
 * deployment (`POST /api/v1/rollback/{deploymentId}`) as background runs answered 202 with
 * their status URL, follow a run as server-sent events, and break a dead run's lock. A stack
 * whose lock another run holds is answered 409 with the holder: the lock decides, as it does
 * for the CLI.
 */
import { forceUnlockRecord, openAuditLog } from '../../util/audit-log.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidInputError, type LockHeldError } from '../../errors.js';
import type { RunEvent } from '../../executor/events.js';
import { openLockManager } from '../../lock/index.js';
import { readSavedPlan } from '../../plan/index.js';
import { auditedRole } from '../auth.js';
import { checkoutRef } from '../checkout.js';
import { shownEvent, shownLock, shownRun, shownText } from '../shown.js';
import type { ServerContext } from '../context.js';
import type { RunRequest, RunView } from '../runs.js';
import { errorResponses, errorSchema, lockSchema, runSchema } from './schemas.js';

const started = {
  type: 'object',
  properties: { run: runSchema, links: { type: 'object', properties: { self: { type: 'string' }, events: { type: 'string' } } } },
} as const;
const heldSchema = { type: 'object', properties: { ...errorSchema.properties, holder: lockSchema } } as const;
const actResponses = { 202: started, 409: heldSchema, 422: errorSchema, ...errorResponses } as const;

type DeployBody = { stack: string; environment: string; plan?: unknown; ref?: string; metadata?: Record<string, string> };

export function registerActRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post<{ Body: DeployBody }>(
    '/api/v1/deploy',
    {
      config: { permission: 'deploy', audit: 'deploy' },
      schema: {
        summary:
          'Apply a stack in an environment (or a plan saved by `deployer plan --out`) as a background run; 202 with its status URL, 409 with the holder when its lock is held',
        tags: ['runs'],
        body: {
          type: 'object',
          required: ['stack', 'environment'],
          additionalProperties: false,
          properties: {
            stack: { type: 'string', minLength: 1 },
            environment: { type: 'string', minLength: 1 },
            plan: {
              type: 'object',
              additionalProperties: true,
              description: 'a plan saved by `deployer plan --out` (refused when the state has moved on)',
            },
            ref: {
              type: 'string',
              minLength: 1,
              description:
                "a git ref of the served directory's repository: the stack as that commit has it (checked out once, kept under .deployer/checkouts)",
            },
            metadata: {
              type: 'object',
              additionalProperties: { type: 'string' },
              description: 'git_commit, ci_run_id ... recorded with the deployments',
            },
          },
        },
        response: actResponses,
      },
    },
    async (request, reply) => {
      const { stack, environment } = request.body;
      request.auditTarget = `${stack}/${environment}`;
      const served = ctx.catalog.require(stack, environment);
      const { plan, ref } = request.body;
      if (plan !== undefined && ref !== undefined) throw new InvalidInputError('give either a plan or a ref, not both');
      const savedPlan = plan === undefined ? undefined : checkedPlan(plan);
      const checkout = ref === undefined ? undefined : await checkoutRef(served.dir, ref);
      return startRun(ctx, request, reply, {
        kind: 'deploy',
        stack,
        environment,
        settings: { ...ctx.catalog.settings(served, environment), ...(checkout ? { sourceDir: checkout.sourceDir } : {}) },
        initiator: initiatorOf(request),
        actor: actorOf(request),
        metadata: {
          ...callerMetadata(request.body.metadata),
          source: 'api',
          ...(checkout ? { git_ref: ref!, git_commit: checkout.commit } : {}),
        },
        ...(savedPlan ? { savedPlan } : {}),
      });
    },
  );
  app.post<{ Params: { deploymentId: string }; Body: { reason?: string } | undefined }>(
    '/api/v1/rollback/:deploymentId',
    {
      config: { permission: 'rollback', audit: 'rollback' },
      schema: {
        summary:
          "Return the deployment's stack and environment to the state version its run started from, as a background run (as `deployer rollback --to <serial>`)",
        tags: ['runs'],
        params: { type: 'object', properties: { deploymentId: { type: 'string' } }, required: ['deploymentId'] },
        response: actResponses,
      },
    },
    async (request, reply) => {
      request.auditTarget = request.params.deploymentId;
      const [d] = await ctx.ledger.listDeployments({ id: request.params.deploymentId, limit: 1 });
      if (!d) throw new InvalidInputError(`no deployment ${request.params.deploymentId} in the ledger`);
      if (!d.parentId)
        throw new InvalidInputError(`deployment ${d.id} was recorded by another tool: deployer has no state version to return to`);
      const served = ctx.catalog.require(d.stack, d.environment);
      const settings = ctx.catalog.settings(served, d.environment);
      return startRun(ctx, request, reply, {
        kind: 'rollback',
        stack: d.stack,
        environment: d.environment,
        settings,
        initiator: initiatorOf(request),
        actor: actorOf(request),
        metadata: { source: 'api', rollback_of: d.id },
        to: { beforeRun: d.parentId },
      });
    },
  );
  registerEvents(app, ctx);
  registerForceUnlock(app, ctx);
}

function checkedPlan(plan: unknown): NonNullable<RunRequest['savedPlan']> {
  const saved = readSavedPlan(plan);
  if (typeof saved === 'string') throw new InvalidInputError(`the plan in the request cannot be applied: ${saved}`);
  return saved;
}

function initiatorOf(request: FastifyRequest): string {
  return `${request.principal?.actor ?? 'anonymous'} via deployer serve`;
}

function actorOf(request: FastifyRequest): NonNullable<RunRequest['actor']> {
  const p = request.principal;
  return { actor: p?.actor ?? 'anonymous', role: auditedRole(p), source: request.ip };
}

/** Keys the run itself writes into a deployment's metadata and its lock's: a caller may not set them. */
const RESERVED_METADATA = new Set([
  'operation',
  'source',
  'actions',
  'results',
  'depends_on',
  'owner',
  'rollback_of',
  'git_ref',
  'changes',
  'deployment_id',
  'pid',
  'drift',
]);

/** The caller's metadata (`git_commit`, `ci_run_id` ...): lower-case keys, none the run writes itself. */
function callerMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  for (const key of Object.keys(metadata ?? {})) {
    if (!/^[a-z][a-z0-9_]{0,63}$/.test(key))
      throw new InvalidInputError(`metadata key ${JSON.stringify(key)}: use lower-case letters, digits and _`);
    if (RESERVED_METADATA.has(key)) throw new InvalidInputError(`metadata key ${key} is written by the run itself: choose another name`);
  }
  return metadata ?? {};
}

function links(run: RunView): { self: string; events: string } {
  return { self: `/api/v1/runs/${run.id}`, events: `/api/v1/runs/${run.id}/events` };
}

async function startRun(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply, run: RunRequest): Promise<unknown> {
  const result = await ctx.runs.start(run);
  if ('held' in result) return heldAnswer(request, reply, result.held);
  request.auditDetail = { run: result.started.id };
  return reply
    .status(202)
    .header('location', links(result.started).self)
    .send({ run: shownRun(request, result.started), links: links(result.started) });
}

function heldAnswer(request: FastifyRequest, reply: FastifyReply, held: LockHeldError): unknown {
  request.auditDetail = { holder: held.holder.lockId };
  const h = held.holder;
  const holder = {
    ...h,
    lockedAt: h.lockedAt.toISOString(),
    expiresAt: h.expiresAt.toISOString(),
    expired: h.expiresAt.getTime() < Date.now(),
  };
  return reply.status(409).send({
    error: {
      code: held.code,
      message: shownText(request, held.message, h.lockedBy),
      details: held.details.map((d) => shownText(request, d, h.lockedBy)),
    },
    holder: shownLock(request, holder),
  });
}

function registerEvents(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Params: { id: string } }>(
    '/api/v1/runs/:id/events',
    {
      config: { permission: 'read' },
      schema: {
        summary:
          "A run's events as server-sent events (`event: <type>`, `data: <JSON>`): those so far, then each as it comes; `event: end` with the run once it has ended",
        tags: ['runs'],
        params: { type: 'object', properties: { id: { type: 'string' } } },
        produces: ['text/event-stream'],
      },
    },
    (request, reply) => {
      const id = request.params.id;
      if (!ctx.runs.get(id)) return reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no run ${id}`, details: [] } });
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      const send = (type: string, data: unknown): void => void res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
      const unsubscribe = ctx.runs.subscribe(id, (event: RunEvent | null) => {
        if (event) return send(event.type, shownEvent(request, event));
        send('end', shownRun(request, ctx.runs.get(id)!));
        res.end();
      });
      request.raw.on('close', () => unsubscribe?.());
      return reply;
    },
  );
}

function registerForceUnlock(app: FastifyInstance, ctx: ServerContext): void {
  app.post<{ Params: { key: string }; Body: { lockId: string } }>(
    '/api/v1/locks/:key/force-unlock',
    {
      config: { permission: 'unlock', audit: 'force-unlock' },
      schema: {
        summary: "Release a dead run's lock (as `deployer lock unlock --force <lockId>`): only if it still has that lock id",
        tags: ['locks'],
        params: { type: 'object', properties: { key: { type: 'string' } } },
        body: {
          type: 'object',
          required: ['lockId'],
          additionalProperties: false,
          properties: { lockId: { type: 'string', minLength: 1 } },
        },
        response: { 200: { type: 'object', properties: { released: lockSchema } }, 409: errorSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const key = request.params.key;
      request.auditTarget = key;
      const m = /^stack:([^:]+):env:([^:]+)(?::|$)/.exec(key);
      if (!m) throw new InvalidInputError(`${key} is not a lock key (stack:<stack>:env:<environment>[...])`);
      const served = ctx.catalog.require(m[1]!, m[2]!);
      const settings = ctx.catalog.settings(served, m[2]!);
      const manager = openLockManager(settings.lockUrl, settings.dir);
      const held = (await manager.list(key)).find((l) => l.lockKey === key);
      if (!held || held.lockId !== request.body.lockId) {
        return reply.status(409).send({
          error: {
            code: 'LOCK_NOT_FOUND',
            message: `${key} is not held with lock id ${request.body.lockId}: nothing was released`,
            details: held ? [`it is held with lock id ${held.lockId} by ${held.lockedBy}`] : ['no lock is held'],
          },
        });
      }
      if (!(await manager.forceUnlock(key, held.lockId))) {
        return reply
          .status(409)
          .send({ error: { code: 'LOCK_NOT_FOUND', message: `${key} changed hands meanwhile; nothing was released`, details: [] } });
      }
      request.auditDetail = { lockId: held.lockId, heldBy: held.lockedBy };
      if (settings.auditLog) {
        const record = forceUnlockRecord({
          lock: held,
          user: request.principal?.actor ?? 'unknown',
          correlationId: request.id,
          stack: m[1]!,
          environment: m[2]!,
        });
        openAuditLog(settings.auditLog, (line) => process.stdout.write(line)).write(record);
      }
      return { released: { ...held, lockedAt: held.lockedAt.toISOString(), expiresAt: held.expiresAt.toISOString(), expired: false } };
    },
  );
}

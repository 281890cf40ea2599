/**
 * Tokens (admin: list, create, revoke) and the audit log (auditor). A token's secret is in the
 * answer that creates it and nowhere else: not in a list, a log or the audit row.
 */
import type { FastifyInstance } from 'fastify';
import { isoTime } from '../../ledger/index.js';
import { ROLES, type Role } from '../../ledger/access.js';
import type { ServerContext } from '../context.js';
import { errorBody } from '../http-errors.js';
import { createApiToken } from '../tokens.js';
import { errorResponses } from './schemas.js';

const tokenSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string', enum: [...ROLES] },
    createdAt: { type: 'string' },
    createdBy: { type: 'string' },
    expiresAt: { type: 'string', nullable: true },
    revokedAt: { type: 'string', nullable: true },
  },
} as const;

const auditSchema = {
  type: 'object',
  properties: {
    seq: { type: 'integer' },
    at: { type: 'string' },
    actor: { type: 'string' },
    role: { type: 'string', nullable: true },
    action: { type: 'string' },
    target: { type: 'string' },
    source: { type: 'string' },
    result: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'object', additionalProperties: true },
  },
} as const;

export function registerAdminRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/api/v1/tokens',
    {
      config: { permission: 'tokens' },
      schema: {
        summary: 'Every API token (never its secret), newest first',
        tags: ['admin'],
        response: { 200: { type: 'object', properties: { tokens: { type: 'array', items: tokenSchema } } }, ...errorResponses },
      },
    },
    async () => ({ tokens: await ctx.access.listTokens() }),
  );
  app.post<{ Body: { name: string; role: Role; expiresAt?: string } }>(
    '/api/v1/tokens',
    {
      config: { permission: 'tokens', audit: 'token-create' },
      schema: {
        summary: 'Create an API token; its secret is in this answer only',
        tags: ['admin'],
        body: {
          type: 'object',
          required: ['name', 'role'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 200 },
            role: { type: 'string', enum: [...ROLES] },
            expiresAt: { type: 'string' },
          },
        },
        response: { 201: { type: 'object', properties: { token: tokenSchema, secret: { type: 'string' } } }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const b = request.body;
      // The auditor watches the admins: an admin cannot make one (`deployer token create` on the ledger's host can).
      if (b.role === 'auditor' && request.principal?.role !== 'local') {
        return reply
          .status(403)
          .send(errorBody('FORBIDDEN', 'an auditor token is made with `deployer token create --role auditor`, not by an admin'));
      }
      const created = await createApiToken(ctx.access, {
        name: b.name,
        role: b.role,
        createdBy: request.principal?.actor ?? 'anonymous',
        expiresAt: b.expiresAt ? isoTime('expiresAt', b.expiresAt) : null,
      });
      request.auditTarget = created.token.id;
      request.auditDetail = { role: b.role };
      return reply.status(201).send(created);
    },
  );
  app.delete<{ Params: { id: string } }>(
    '/api/v1/tokens/:id',
    {
      config: { permission: 'tokens', audit: 'token-revoke' },
      schema: {
        summary: 'Revoke an API token',
        tags: ['admin'],
        params: { type: 'object', properties: { id: { type: 'string' } } },
        response: { 200: { type: 'object', properties: { revoked: { type: 'string' } } }, ...errorResponses },
      },
    },
    async (request, reply) => {
      request.auditTarget = request.params.id;
      if (!(await ctx.access.revokeToken(request.params.id, new Date().toISOString()))) {
        return reply.status(404).send(errorBody('NOT_FOUND', `no token ${request.params.id}`));
      }
      return { revoked: request.params.id };
    },
  );
  app.get<{ Querystring: { actor?: string; action?: string; from?: string; to?: string; limit?: number } }>(
    '/api/v1/audit',
    {
      config: { permission: 'audit' },
      schema: {
        summary: 'The audit log, newest first: every action and every refused request (who, what, when, from where, result)',
        tags: ['admin'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            actor: { type: 'string' },
            action: { type: 'string' },
            from: { type: 'string' },
            to: { type: 'string' },
            limit: { type: 'integer', minimum: 1, maximum: 10000, default: 100 },
          },
        },
        response: { 200: { type: 'object', properties: { entries: { type: 'array', items: auditSchema } } }, ...errorResponses },
      },
    },
    async (request) => {
      const q = request.query;
      return {
        entries: await ctx.access.listAudit({
          ...(q.actor ? { actor: q.actor } : {}),
          ...(q.action ? { action: q.action } : {}),
          ...(q.from ? { since: isoTime('from', q.from) } : {}),
          ...(q.to ? { until: isoTime('to', q.to) } : {}),
          limit: q.limit ?? 100,
        }),
      };
    },
  );
}

/**
 * Webhook receivers: `POST /webhooks/github` and the generic JSON receivers `POST
 * /webhooks/<name>`. They authenticate a delivery by its signature (X-Hub-Signature-256, the
 * HMAC of the raw body with the receiver's secret), not by a token, so this scope keeps bodies
 * as the bytes received. A delivery is processed once: it is claimed by (source, hook id,
 * delivery id) in the access store, atomically, so a replay or a concurrent duplicate answers
 * 200 `{duplicate: true}` and records nothing; a delivery whose processing failed is released,
 * so the sender's redelivery is processed. Every request leaves an audit row (app.ts) naming
 * the receiver, the event, the delivery and what became of it, never the signature.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { errorBody } from '../http-errors.js';
import { ChangeWriter } from '../webhooks/change-writer.js';
import { processGenericEvent } from '../webhooks/generic.js';
import { GITHUB_EVENTS, processGithubEvent } from '../webhooks/github.js';
import type { WebhookOutcome } from '../webhooks/outcome.js';
import { parseBody, type JsonObject } from '../webhooks/payload.js';
import { SIGNATURE_HEADER, verifySignature } from '../webhooks/signature.js';
import { errorSchema } from './schemas.js';

/** A header value as one string (a repeated header is not taken). */
function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Ids longer than this are refused: they are keys of the deliveries table, not free text. */
const MAX_ID = 200;

/** One delivery as the route read it from its headers. */
interface Delivery {
  /** `github` or the generic receiver's name. */
  source: string;
  secret: string | undefined;
  /** What to say when there is no secret: the receiver is not configured. */
  unconfigured: string;
  event: string;
  hookId: string;
  deliveryId: string | undefined;
  /** The header the delivery id comes in, to name it in a refusal. */
  deliveryHeader: string;
  /** Whether the event is one this receiver records anything of. */
  known: boolean;
  process(body: JsonObject, receivedAt: string): Promise<WebhookOutcome>;
}

const answerSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    ok: { type: 'boolean' },
    duplicate: { type: 'boolean' },
    result: { type: 'string' },
    event: { type: 'string' },
    delivery: { type: 'string' },
    note: { type: 'string' },
  },
} as const;

const routeSchema = (summary: string, description: string): Record<string, unknown> => ({
  summary,
  description,
  tags: ['webhooks'],
  security: [],
  response: {
    200: answerSchema,
    202: answerSchema,
    400: errorSchema,
    401: errorSchema,
    404: errorSchema,
    413: errorSchema,
    415: errorSchema,
  },
});

/** Refuses, answers a duplicate, or processes a delivery; every path sets what its audit row keeps. */
async function receive(request: FastifyRequest, reply: FastifyReply, ctx: ServerContext, d: Delivery): Promise<FastifyReply> {
  request.auditTarget = d.source;
  const detail = (result: string): void => void (request.auditDetail = { event: d.event, delivery: d.deliveryId ?? '', result });
  const refuse = (status: number, code: string, result: string, message: string): FastifyReply => {
    detail(result);
    return reply.status(status).send(errorBody(code, message));
  };
  if (d.secret === undefined) return refuse(404, 'NOT_FOUND', 'no-receiver', d.unconfigured);
  const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  // Before anything else: an unsigned request learns nothing, and nothing of it is read.
  if (!verifySignature(d.secret, raw, request.headers[SIGNATURE_HEADER])) {
    return refuse(
      401,
      'UNAUTHENTICATED',
      'bad-signature',
      `the signature (X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body>) is missing or does not match the ${d.source} receiver's secret`,
    );
  }
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    return refuse(
      415,
      'INVALID_INPUT',
      'invalid',
      `the body must be application/json, not ${type || 'of no type'} (GitHub: Content type application/json)`,
    );
  }
  if (!d.deliveryId)
    return refuse(
      400,
      'INVALID_INPUT',
      'invalid',
      `the ${d.deliveryHeader} header is required: it makes a delivery's processing idempotent`,
    );
  if (d.deliveryId.length > MAX_ID || d.hookId.length > MAX_ID)
    return refuse(400, 'INVALID_INPUT', 'invalid', `the delivery and hook ids must be at most ${MAX_ID} characters`);
  detail('invalid'); // until the body is read
  const body = parseBody(raw);
  if (!d.known) {
    detail('ignored');
    // GitHub's ping, its first delivery to a new hook, is answered 200 so the hook shows as working.
    const ping = d.event === 'ping';
    return reply.status(ping ? 200 : 202).send({
      ok: true,
      result: 'ignored',
      event: d.event,
      delivery: d.deliveryId,
      note: ping ? 'pong' : `the event ${d.event || '(none)'} records nothing`,
    });
  }
  const receivedAt = new Date().toISOString();
  const claim = { source: d.source, hookId: d.hookId, deliveryId: d.deliveryId, event: d.event, receivedAt };
  if (!(await ctx.access.claimDelivery(claim))) {
    detail('duplicate');
    return reply.status(200).send({ ok: true, duplicate: true, result: 'duplicate', event: d.event, delivery: d.deliveryId });
  }
  let outcome: WebhookOutcome;
  try {
    outcome = await d.process(body, receivedAt);
  } catch (e) {
    // Not processed: forget the claim so that the sender's redelivery is (a bad body stays bad, but may be fixed and sent again).
    await ctx.access.releaseDelivery(d.source, d.hookId, d.deliveryId);
    detail('failed');
    throw e;
  }
  detail(outcome.result);
  const { status, ...rest } = outcome;
  return reply.status(status).send({ ok: true, duplicate: false, event: d.event, delivery: d.deliveryId, ...rest });
}

/** Registers the receivers in `app`, a scope of their own (its body parser keeps raw bytes). */
export async function registerWebhookRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  // The HMAC is over the bytes as sent: keep every body as a Buffer (fastify still answers 413 past its bodyLimit).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  // Named before the body is read, so that a body refused as too large (413) is audited under its receiver too.
  app.addHook('onRequest', async (request) => {
    const name = (request.params as { name?: unknown } | undefined)?.name;
    request.auditTarget = typeof name === 'string' ? name : 'github';
  });
  const config = { permission: 'webhook', audit: 'webhook' } as const;
  const changes = new ChangeWriter(ctx.ledger);

  app.post(
    '/webhooks/github',
    {
      config,
      schema: routeSchema(
        'GitHub webhook: push, deployment, deployment_status and workflow_run become ledger changes and deployments',
        'Signed with X-Hub-Signature-256 (the secret in DEPLOYER_GITHUB_WEBHOOK_SECRET); idempotent by X-GitHub-Hook-ID and X-GitHub-Delivery. Other events answer 202 and are ignored.',
      ),
    },
    async (request, reply) => receive(request, reply, ctx, github(request, ctx, changes, header(request, 'x-github-event') ?? '')),
  );

  app.post<{ Params: { name: string } }>(
    '/webhooks/:name',
    {
      config,
      schema: {
        ...routeSchema(
          'Generic JSON receiver: {type: deployment | rollback, ...the fields of ledger record-deployment / record-rollback}',
          'Signed with X-Hub-Signature-256 (the secret in DEPLOYER_WEBHOOK_SECRET_<NAME>); idempotent by X-Delivery-Id, which is required.',
        ),
        params: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
      },
    },
    async (request, reply) => {
      const name = request.params.name;
      const secrets = ctx.webhooks.generic ?? {};
      return receive(request, reply, ctx, {
        source: name,
        secret: Object.hasOwn(secrets, name) ? secrets[name] : undefined,
        unconfigured: `no webhook receiver ${name} (its secret is set in DEPLOYER_WEBHOOK_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')})`,
        event: 'generic',
        hookId: '',
        deliveryId: header(request, 'x-delivery-id'),
        deliveryHeader: 'X-Delivery-Id',
        known: true,
        process: (body) => processGenericEvent(ctx.ledger, name, body),
      });
    },
  );
}

/** The GitHub delivery a request carries. */
function github(request: FastifyRequest, ctx: ServerContext, changes: ChangeWriter, event: string): Delivery {
  return {
    source: 'github',
    secret: ctx.webhooks.github,
    unconfigured:
      'this server receives no GitHub webhooks: no secret is configured (DEPLOYER_GITHUB_WEBHOOK_SECRET), and an unsigned delivery is never accepted',
    event,
    hookId: header(request, 'x-github-hook-id') ?? '',
    deliveryId: header(request, 'x-github-delivery'),
    deliveryHeader: 'X-GitHub-Delivery',
    known: GITHUB_EVENTS.has(event),
    process: (body, receivedAt) => processGithubEvent({ ledger: ctx.ledger, changes }, event, body, receivedAt),
  };
}

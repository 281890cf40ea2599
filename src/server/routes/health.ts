/** `GET /healthz` (the process answers) and `GET /readyz` (it can reach its ledger and takes requests). */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

export function registerHealthRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const publicRoute = { permission: 'public' } as const;
  app.get('/healthz', { config: publicRoute, schema: { summary: 'The process answers', tags: ['health'], security: [] } }, () => ({
    ok: true,
  }));
  app.get(
    '/readyz',
    {
      config: publicRoute,
      schema: { summary: 'The server takes requests and reaches its ledger (503 otherwise)', tags: ['health'], security: [] },
    },
    async (request, reply) => {
      if (!ctx.ready()) return reply.status(503).send({ ok: false, reason: 'starting or stopping' });
      try {
        await ctx.ledger.revision();
        return { ok: true };
      } catch (e) {
        // Public: why goes to the log, not to whoever asks.
        request.log.error({ err: e }, 'readiness: the ledger cannot be read');
        return reply.status(503).send({ ok: false, reason: 'the ledger cannot be read' });
      }
    },
  );
}

/** Webhook receivers (to be written). */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

export async function registerWebhookRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  void app;
  void ctx;
}

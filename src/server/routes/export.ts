/**
 * `GET /api/v1/export`: the ledger's records in the formats of `deployer ledger export` (json,
 * csv, org, sexp), oldest first; personal data and credentials redacted as the CLI redacts them,
 * except for the auditor, who gets them as recorded (issue 17: "unredacted exports").
 */
import type { FastifyInstance } from 'fastify';
import { isoTime } from '../../ledger/index.js';
import { EXPORT_FORMATS, exportLedger, type ExportFormat } from '../../ledger/export.js';
import { permits } from '../auth.js';
import type { ServerContext } from '../context.js';
import { errorResponses } from './schemas.js';

const CONTENT_TYPES: Record<ExportFormat, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  org: 'text/org; charset=utf-8',
  sexp: 'text/plain; charset=utf-8',
};

type ExportQuery = { format?: ExportFormat; service?: string; environment?: string; from?: string; to?: string };

export function registerExportRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Querystring: ExportQuery }>(
    '/api/v1/export',
    {
      config: { permission: 'read', audit: 'export' },
      schema: {
        summary: 'The ledger as `deployer ledger export` writes it (json, csv, org, sexp), oldest first; unredacted for the auditor only',
        tags: ['ledger'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            format: { type: 'string', enum: [...EXPORT_FORMATS], default: 'json' },
            service: { type: 'string' },
            environment: { type: 'string' },
            from: { type: 'string' },
            to: { type: 'string' },
          },
        },
        produces: Object.values(CONTENT_TYPES),
        response: errorResponses,
      },
    },
    async (request, reply) => {
      const q = request.query;
      const format = q.format ?? 'json';
      const filter = {
        ...(q.service ? { service: q.service } : {}),
        ...(q.environment ? { environment: q.environment } : {}),
        ...(q.from ? { since: isoTime('from', q.from) } : {}),
        ...(q.to ? { until: isoTime('to', q.to) } : {}),
      };
      const redact = !(request.principal && permits(request.principal, 'unredacted'));
      request.auditTarget = format;
      request.auditDetail = { redacted: redact };
      const records = { deployments: await ctx.ledger.listDeployments(filter), rollbacks: await ctx.ledger.listRollbacks(filter) };
      return reply.header('content-type', CONTENT_TYPES[format]).send(exportLedger(records, format, { redact }));
    },
  );
}

/**
 * JSON Schemas of what the API answers and accepts, shared by the routes: fastify validates
 * requests and serializes answers with them, and @fastify/swagger makes the OpenAPI document
 * from them. An answer's properties not in its schema are not sent, so every object that may
 * carry more (metadata, summaries) says `additionalProperties: true`.
 */
import { DEPLOYMENT_STATUSES } from '../../ledger/index.js';

const str = { type: 'string' } as const;
const nullableStr = { type: 'string', nullable: true } as const;
const anyObject = { type: 'object', additionalProperties: true } as const;

export const deploymentSchema = {
  type: 'object',
  properties: {
    id: str,
    stack: str,
    service: str,
    version: str,
    environment: str,
    type: str,
    started: str,
    completed: nullableStr,
    status: { type: 'string', enum: [...DEPLOYMENT_STATUSES] },
    initiator: str,
    metadata: anyObject,
    parentId: nullableStr,
    operation: str,
  },
} as const;

export const rollbackSchema = {
  type: 'object',
  properties: {
    id: str,
    stack: str,
    service: str,
    environment: str,
    fromVersion: str,
    toVersion: str,
    reason: str,
    at: str,
    deploymentId: str,
  },
} as const;

export const runSchema = {
  type: 'object',
  properties: {
    id: str,
    kind: { type: 'string', enum: ['deploy', 'rollback'] },
    stack: str,
    environment: str,
    status: { type: 'string', enum: ['running', 'succeeded', 'failed', 'cancelled'] },
    initiator: str,
    startedAt: str,
    endedAt: nullableStr,
    ledgerRunId: nullableStr,
    summary: { ...anyObject, nullable: true },
    error: { ...anyObject, nullable: true },
    note: nullableStr,
    links: anyObject,
  },
} as const;

export const lockSchema = {
  type: 'object',
  nullable: true,
  properties: {
    lockKey: str,
    lockId: str,
    lockedBy: str,
    lockedAt: str,
    expiresAt: str,
    expired: { type: 'boolean' },
    metadata: anyObject,
  },
} as const;

export const stackSchema = {
  type: 'object',
  properties: {
    name: str,
    environments: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: str,
          lock: lockSchema,
          drift: {
            type: 'object',
            nullable: true,
            properties: {
              at: str,
              cycle: str,
              components: { type: 'integer' },
              drifted: { type: 'integer' },
              findings: { type: 'integer' },
              critical: { type: 'integer' },
              services: { type: 'array', items: { type: 'object', properties: { service: str, drift: anyObject } } },
            },
          },
        },
      },
    },
  },
} as const;

export const errorSchema = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: str, message: str, details: { type: 'array', items: str } } } },
} as const;

/** The error answers every authenticated route may give. */
export const errorResponses = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 429: errorSchema } as const;

/** The query of a list of deployments (`withStatusAndType`) or rollbacks. */
export function listQuery(withStatusAndType: boolean): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      stack: str,
      service: str,
      environment: str,
      ...(withStatusAndType ? { status: { type: 'string', enum: [...DEPLOYMENT_STATUSES] }, type: str } : {}),
      from: { type: 'string', description: 'ISO 8601: at or after' },
      to: { type: 'string', description: 'ISO 8601: at or before' },
      limit: { type: 'integer', minimum: 1, maximum: 10000, default: 100 },
    },
  };
}

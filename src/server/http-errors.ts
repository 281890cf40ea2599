/**
 * The server's one map from error codes to HTTP statuses (the CLI has its own, to exit codes),
 * and the body every error answers with: `{error: {code, message, details}}`.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DeployerError, InternalError, type ErrorCode } from '../errors.js';

const STATUS: Record<ErrorCode, number> = {
  INVALID_INPUT: 400,
  VALIDATION_FAILED: 422,
  STALE_PLAN: 409,
  LOCK_HELD: 409,
  LOCK_LOST: 409,
  LOCK_NOT_FOUND: 404,
  STATE_CORRUPT: 500,
  STATE_CONFLICT: 409,
  LEDGER_TAMPERED: 500,
  LEDGER_UNAVAILABLE: 503,
  PULUMI_UNAVAILABLE: 503,
  ENGINE_FAILED: 500,
  APPLY_FAILED: 500,
  BUILD_FAILED: 500,
  GATE_REFUSED: 422,
  PORT_IN_USE: 409,
  CAPACITY_EXCEEDED: 409,
  CANCELLED: 409,
  MACHINE_FAULT: 503,
  INTERNAL: 500,
};

export function httpStatusFor(code: ErrorCode): number {
  return STATUS[code];
}

/** The JSON body of an error answer. */
export function errorBody(
  code: string,
  message: string,
  details: string[] = [],
): { error: { code: string; message: string; details: string[] } } {
  return { error: { code, message, details } };
}

/** Fastify's error handler: our errors by their code, fastify's own (a bad body, too large) by their status, anything else as a bug. */
export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof DeployerError) {
    request.auditDetail = { ...request.auditDetail, code: error.code };
    const status = (error as { httpStatus?: number }).httpStatus ?? httpStatusFor(error.code);
    void reply.status(status).send(errorBody(error.code, error.message, error.details));
    return;
  }
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    void reply.status(status).send(errorBody('INVALID_INPUT', error.message));
    return;
  }
  const bug = new InternalError(
    `the server failed on ${request.method} ${request.routeOptions.url ?? request.url}: ${error.message}`,
    error,
  );
  request.log.error({ err: error }, 'internal error');
  void reply.status(500).send(errorBody(bug.code, bug.message, bug.details));
}

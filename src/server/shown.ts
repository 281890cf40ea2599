/**
 * What each caller may see of personal data (issue 17: "personal data and secrets redacted in
 * responses"): the auditor sees everything; every other role sees who acted as a pseudonym
 * (deployments' and runs' initiators, locks' holders) and records with e-mail addresses, URL
 * passwords, tokens and secret-named metadata redacted, as `ledger export` redacts them.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { RunEvent } from '../executor/events.js';
import type { DeploymentEvent, RollbackEvent } from '../ledger/index.js';
import { redactText, redactValue } from '../ledger/redact.js';
import { permits } from './auth.js';
import type { RunView } from './runs.js';
import type { StackLock } from './stacks.js';

/** This server's key for pseudonyms: random at each start, so a pseudonym cannot be looked up elsewhere. */
const PSEUDONYM_KEY = randomBytes(32);

/**
 * Who acted, as every role but the auditor sees it: a pseudonym (`person-` and 8 hex digits of a
 * keyed hash), the same for the same initiator while the server runs, so that a viewer sees that
 * one person made several deployments without learning who.
 */
export function pseudonym(who: string): string {
  return `person-${createHmac('sha256', PSEUDONYM_KEY).update(who).digest('hex').slice(0, 8)}`;
}

function unredacted(request: FastifyRequest): boolean {
  return request.principal !== undefined && permits(request.principal, 'unredacted');
}

/** A deployment or rollback as the caller may see it. */
export function shown<T extends DeploymentEvent | RollbackEvent>(request: FastifyRequest, record: T): T {
  if (unredacted(request)) return record;
  if ('initiator' in record)
    return { ...record, initiator: pseudonym(record.initiator), metadata: redactValue(record.metadata) as Record<string, unknown> };
  return { ...record, reason: redactText(record.reason) };
}

/** A run as the caller may see it: its initiator a pseudonym, its error's text redacted. */
export function shownRun(request: FastifyRequest, run: RunView): RunView {
  if (unredacted(request)) return run;
  return {
    ...run,
    initiator: pseudonym(run.initiator),
    ...(run.error ? { error: { ...run.error, message: redactText(run.error.message), details: run.error.details.map(redactText) } } : {}),
  };
}

/** A lock's holder as the caller may see it: who holds it a pseudonym, its metadata redacted. */
export function shownLock<T extends NonNullable<StackLock['holder']>>(request: FastifyRequest, holder: T): T {
  if (unredacted(request)) return holder;
  return { ...holder, lockedBy: pseudonym(holder.lockedBy), metadata: redactValue(holder.metadata) as T['metadata'] };
}

/** A text that may name who holds a lock, as the caller may see it. */
export function shownText(request: FastifyRequest, text: string, who: string): string {
  return unredacted(request) ? text : redactText(text.split(who).join(pseudonym(who)));
}

/** A run's event as the caller may see it: the locks it names held by pseudonyms. */
export function shownEvent(request: FastifyRequest, event: RunEvent): RunEvent {
  if (unredacted(request)) return event;
  if (event.type === 'lock-wait') return { ...event, holder: { ...event.holder, lockedBy: pseudonym(event.holder.lockedBy) } };
  if (event.type === 'lock-acquired') {
    const hide = <L extends { lockedBy: string }>(l: L): L => ({ ...l, lockedBy: pseudonym(l.lockedBy) });
    return {
      ...event,
      locks: event.locks.map((l) => ({ ...hide(l), ...(l.takenOverFrom ? { takenOverFrom: hide(l.takenOverFrom) } : {}) })),
    };
  }
  return event;
}

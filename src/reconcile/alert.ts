/**
 * Critical drift sent to an alert webhook: one POST of JSON per critical finding, signed with
 * HMAC-SHA256 of the body (`X-Deployer-Signature-256: sha256=<hex>`, as GitHub signs its
 * webhooks) when a secret is set, tried again with a doubling pause on a network failure or a
 * 5xx answer. Findings carry no secret values (report.ts redacts them); the secret itself is
 * read from the environment, never from the command line.
 */
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DriftReport } from './drift.js';
import type { DriftFinding } from './report.js';

export interface AlertTarget {
  url: string;
  /** Signs each body when set. */
  secret?: string;
  /** Tries per alert (default 4). */
  attempts?: number;
  /** The first pause between tries, doubled after each (default 500 ms). */
  backoffMs?: number;
}

/** What was sent: how many alerts were delivered, and the failures by finding. */
export interface AlertOutcome {
  sent: number;
  failed: Array<{ component: string; path: string; error: string }>;
}

export const SIGNATURE_HEADER = 'X-Deployer-Signature-256';

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The body of one alert. */
export function alertBody(report: DriftReport, finding: DriftFinding): string {
  return JSON.stringify({
    event: 'drift.critical',
    stack: report.stack,
    environment: report.environment,
    checkedAt: report.checkedAt,
    serial: report.serial,
    finding,
  });
}

async function post(target: AlertTarget, body: string): Promise<void> {
  const attempts = target.attempts ?? 4;
  let pause = target.backoffMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    let failure: string;
    try {
      const res = await fetch(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(target.secret ? { [SIGNATURE_HEADER]: signature(target.secret, body) } : {}) },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      if (res.ok) return;
      failure = `the webhook answered ${res.status}`;
      // A 4xx will not change on retry: refused as it is.
      if (res.status < 500) throw new Error(failure);
    } catch (err) {
      failure = (err as Error).message;
      if (/answered 4\d\d/.test(failure)) throw err;
    }
    if (attempt >= attempts) throw new Error(`${failure} (after ${attempts} tries)`);
    await sleep(pause);
    pause *= 2;
  }
}

/** POSTs every critical finding of `report`; never throws (a failed alert is reported, the loop goes on). */
export async function sendAlerts(target: AlertTarget, report: DriftReport): Promise<AlertOutcome> {
  const outcome: AlertOutcome = { sent: 0, failed: [] };
  const critical = report.components.flatMap((c) => c.findings.filter((f) => f.severity === 'critical'));
  for (const f of critical) {
    try {
      await post(target, alertBody(report, f));
      outcome.sent++;
    } catch (err) {
      outcome.failed.push({ component: f.component, path: f.path, error: (err as Error).message });
    }
  }
  return outcome;
}

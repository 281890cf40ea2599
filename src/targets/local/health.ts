/** Health checks of local processes: HTTP (a MicroService), a command (a Worker), or being alive. */
import { setTimeout as sleep } from 'node:timers/promises';
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { ProcessSpec } from './protocol.js';

/** `healthy`: a 2xx answer; `unhealthy`: another answer; `no-answer`: refused or timed out. */
export type CheckResult = 'healthy' | 'unhealthy' | 'no-answer';

/** One GET with a timeout. */
export function checkOnce(port: number, path: string, timeoutMs: number): Promise<CheckResult> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      const status = res.statusCode ?? 500;
      resolve(status >= 200 && status < 300 ? 'healthy' : 'unhealthy');
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve('no-answer'));
  });
}

/** A process to check: where it listens, whether it still runs, what it runs. */
export interface Probed {
  port: number;
  exited: boolean;
  spec: Pick<ProcessSpec, 'cwd' | 'env' | 'healthCheck'>;
}

/**
 * One check of `r` as its spec says: GET the path on its port; or the command, in its directory
 * with its environment, healthy on exit code 0; or, with neither, healthy while it runs.
 */
export function probe(r: Probed): Promise<CheckResult> {
  const hc = r.spec.healthCheck;
  if (r.exited) return Promise.resolve('no-answer');
  if (hc.path !== undefined) return checkOnce(r.port, hc.path, hc.timeout * 1000);
  if (!hc.command) return Promise.resolve('healthy');
  const [program, ...args] = hc.command;
  const env = { PATH: process.env['PATH'] ?? '', ...r.spec.env };
  return new Promise((resolve) => {
    execFile(program!, args, { cwd: r.spec.cwd, env, timeout: hc.timeout * 1000 }, (err) => resolve(err ? 'unhealthy' : 'healthy'));
  });
}

/** What a check is, in words: `GET /healthz`, `command check.sh`, `running`. */
export function describeCheck(hc: ProcessSpec['healthCheck']): string {
  return hc.path !== undefined ? `GET ${hc.path}` : hc.command ? `command ${hc.command.join(' ')}` : 'process running';
}

export interface WaitHealthyOptions {
  port: number;
  path: string;
  /** Consecutive successes needed. */
  healthyThreshold: number;
  /** Consecutive unhealthy answers (after the grace period) that fail the version at once. */
  unhealthyThreshold: number;
  /** Unhealthy answers during this time after the start do not count. */
  gracePeriodMs: number;
  /** Time between checks once the process answers (a process that is not up yet is polled faster). */
  intervalMs: number;
  /** Give up after this long. */
  timeoutMs: number;
  /** Time one check may take. */
  checkTimeoutMs: number;
  /** Stop early (the process died). */
  abandoned?: () => string | undefined;
  /** The check itself (default: GET `path` on `port`), and what it is in words. */
  check?: () => Promise<CheckResult>;
  what?: string;
  pollMs?: number;
}

/**
 * Polls until `healthyThreshold` consecutive checks pass. Fails early when the process answers
 * unhealthy `unhealthyThreshold` times in a row after the grace period (so a bad version is
 * rolled back in seconds), and at `timeoutMs` when it never becomes healthy.
 */
export async function waitHealthy(o: WaitHealthyOptions): Promise<void> {
  const started = Date.now();
  const deadline = started + o.timeoutMs;
  let healthy = 0;
  let unhealthy = 0;
  while (true) {
    const reason = o.abandoned?.();
    if (reason) throw new Error(reason);
    const result = o.check ? await o.check() : await checkOnce(o.port, o.path, o.checkTimeoutMs);
    if (result === 'healthy') {
      unhealthy = 0;
      if (++healthy >= o.healthyThreshold) return;
    } else {
      healthy = 0;
      if (result === 'unhealthy' && Date.now() - started >= o.gracePeriodMs && ++unhealthy >= o.unhealthyThreshold) {
        throw new Error(`health check ${o.what ?? `GET ${o.path}`} answered unhealthy ${unhealthy} times in a row`);
      }
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `health check ${o.what ?? `GET ${o.path}`} did not pass ${o.healthyThreshold} time(s) in a row within ${Math.round(o.timeoutMs / 1000)} s`,
      );
    }
    const answered = result !== 'no-answer';
    await sleep(answered ? o.intervalMs : (o.pollMs ?? 100));
  }
}

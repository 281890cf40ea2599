/** HTTP health checks of local processes. */
import http from 'node:http';

/** One GET; true for a 2xx answer within `timeoutMs`. */
export function checkOnce(port: number, path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) >= 200 && (res.statusCode ?? 500) < 300);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
  });
}

export interface WaitHealthyOptions {
  port: number;
  path: string;
  /** Consecutive successes needed. */
  healthyThreshold: number;
  /** Give up after this long. */
  timeoutMs: number;
  /** Time one check may take. */
  checkTimeoutMs: number;
  /** Stop early (the process died). */
  abandoned?: () => string | undefined;
  pollMs?: number;
}

/** Polls until `healthyThreshold` consecutive checks pass; throws with the reason otherwise. */
export async function waitHealthy(o: WaitHealthyOptions): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  let streak = 0;
  while (true) {
    const reason = o.abandoned?.();
    if (reason) throw new Error(reason);
    if (await checkOnce(o.port, o.path, o.checkTimeoutMs)) {
      if (++streak >= o.healthyThreshold) return;
    } else streak = 0;
    if (Date.now() >= deadline) {
      throw new Error(`health check GET ${o.path} did not pass ${o.healthyThreshold} time(s) in a row within ${Math.round(o.timeoutMs / 1000)} s`);
    }
    await new Promise((r) => setTimeout(r, o.pollMs ?? 100));
  }
}

/** Small HTTP clients for end-to-end checks against loopback services. */
import http from 'node:http';

export function get(port: number, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

export async function getJson<T = Record<string, unknown>>(port: number, path = '/'): Promise<T> {
  const r = await get(port, path);
  if (r.status !== 200) throw new Error(`GET ${path} -> ${r.status}: ${r.body}`);
  return JSON.parse(r.body) as T;
}

export interface TrafficResult {
  ok: number;
  failed: number;
  errors: string[];
  /** Answers per `version` field of the JSON body, in the order they were first seen. */
  versions: Record<string, number>;
  /** The version of each answer, in order. */
  sequence: string[];
  /** Every answer and failure with the time it came (epoch ms), in order: who served, when it broke. */
  log: Array<{ at: number; ok: boolean; version?: string; pid?: number }>;
}

/** Sends requests one after another until stopped; counts answers that were not 200, and versions seen. */
export function steadyTraffic(port: number): { stop(): Promise<TrafficResult>; snapshot(): TrafficResult } {
  let running = true;
  let ok = 0;
  let failed = 0;
  const errors: string[] = [];
  const versions: Record<string, number> = {};
  const sequence: string[] = [];
  const log: TrafficResult['log'] = [];
  const loop = (async () => {
    while (running) {
      try {
        const r = await get(port, '/');
        if (r.status === 200) {
          ok++;
          const body = JSON.parse(r.body) as { version?: unknown; pid?: unknown };
          const version = String(body.version ?? '');
          versions[version] = (versions[version] ?? 0) + 1;
          sequence.push(version);
          log.push({ at: Date.now(), ok: true, version, ...(typeof body.pid === 'number' ? { pid: body.pid } : {}) });
        } else {
          failed++;
          errors.push(`HTTP ${r.status}: ${r.body.trim()}`);
          log.push({ at: Date.now(), ok: false });
        }
      } catch (err) {
        failed++;
        errors.push((err as Error).message);
        log.push({ at: Date.now(), ok: false });
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { ok, failed, errors, versions, sequence, log };
    },
    snapshot() {
      return { ok, failed, errors: [...errors], versions: { ...versions }, sequence: [...sequence], log: [...log] };
    },
  };
}

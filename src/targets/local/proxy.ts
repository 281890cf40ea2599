/**
 * The front proxy of a local MicroService: it owns the public port and forwards each HTTP
 * request to one backend of a weighted pool, so new versions can be started beside the old
 * ones and traffic moved between requests — all at once (blue-green), a share at a time
 * (canary) or a replica at a time (rolling). It counts requests in flight per backend, so an
 * old version is stopped only after it has answered everything it was given, and answers and
 * errors per backend, so a canary can be judged by its error rate.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One backend of the pool: a service process's private port and its share of the traffic. */
export interface Backend {
  port: number;
  /** Relative weight (> 0). Backends with weight 0 get no new requests. */
  weight: number;
}

/** What a backend answered since its stats were last reset. */
export interface BackendStats {
  requests: number;
  /** 5xx answers and failed connections. */
  errors: number;
}

export class SwitchingProxy {
  private server: http.Server | undefined;
  private pool: Array<Backend & { current: number }> = [];
  private readonly inflight = new Map<number, number>();
  private readonly stats = new Map<number, BackendStats>();
  private readonly agents = new Map<number, http.Agent>();

  /** The ports requests go to now. */
  get backends(): Backend[] {
    return this.pool.map(({ port, weight }) => ({ port, weight }));
  }

  /** The single backend, when there is exactly one (undefined otherwise). */
  get backend(): number | undefined {
    return this.pool.length === 1 ? this.pool[0]!.port : undefined;
  }

  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    const server = http.createServer((req, res) => this.forward(req, res));
    server.keepAliveTimeout = 5_000;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        this.server = server;
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  /** Sends everything to one backend (undefined: answer 503). */
  switchTo(port: number | undefined): void {
    this.setBackends(port === undefined ? [] : [{ port, weight: 1 }]);
  }

  /** Replaces the pool; requests in flight finish where they are. */
  setBackends(backends: Backend[]): void {
    this.pool = backends.filter((b) => b.weight > 0).map((b) => ({ ...b, current: 0 }));
  }

  inFlight(port: number): number {
    return this.inflight.get(port) ?? 0;
  }

  statsOf(port: number): BackendStats {
    return { ...(this.stats.get(port) ?? { requests: 0, errors: 0 }) };
  }

  /** Resolves when `port` has no request in flight, or after `timeoutMs`. */
  async drain(port: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight(port) > 0 && Date.now() < deadline) await sleep(20);
    const drained = this.inFlight(port) === 0;
    this.agents.get(port)?.destroy();
    this.agents.delete(port);
    this.stats.delete(port);
    return drained;
  }

  close(): Promise<void> {
    for (const a of this.agents.values()) a.destroy();
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Smooth weighted round-robin (as nginx does it): exact shares, evenly interleaved. */
  private pick(): number | undefined {
    if (this.pool.length === 0) return undefined;
    let total = 0;
    let best = this.pool[0]!;
    for (const b of this.pool) {
      b.current += b.weight;
      total += b.weight;
      if (b.current > best.current) best = b;
    }
    best.current -= total;
    return best.port;
  }

  private agentFor(port: number): http.Agent {
    let agent = this.agents.get(port);
    if (!agent) {
      agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
      this.agents.set(port, agent);
    }
    return agent;
  }

  private count(port: number, error: boolean): void {
    const s = this.stats.get(port) ?? { requests: 0, errors: 0 };
    s.requests++;
    if (error) s.errors++;
    this.stats.set(port, s);
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const port = this.pick();
    if (port === undefined) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('no healthy backend\n');
      return;
    }
    this.inflight.set(port, this.inFlight(port) + 1);
    let counted = true;
    const done = (): void => {
      if (!counted) return;
      counted = false;
      this.inflight.set(port, this.inFlight(port) - 1);
    };
    res.once('close', done);
    const upstream = http.request(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent: this.agentFor(port) },
      (answer) => {
        const status = answer.statusCode ?? 502;
        this.count(port, status >= 500);
        res.writeHead(status, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      this.count(port, true);
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`bad gateway: ${err.message}\n`);
      done();
    });
    req.pipe(upstream);
  }
}

/**
 * The front proxy of a local MicroService: it owns the public port and forwards each HTTP
 * request to one backend of a weighted pool, so new versions can be started beside the old
 * ones and traffic moved between requests — all at once (blue-green), a share at a time
 * (canary) or a replica at a time (rolling). It counts requests in flight per backend, so an
 * old version is stopped only after it has answered everything it was given, and answers and
 * errors per backend, so a canary can be judged by its error rate. As a proxy must (RFC 9110
 * §7.6.1), it drops hop-by-hop headers both ways and says who asked (X-Forwarded-For); it passes
 * WebSocket (and other) upgrades through to the backend; and it aborts the upstream request
 * when the client goes away, so a backend never works for nobody.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

/** Headers that concern one connection only, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** `headers` without the hop-by-hop ones, nor those their Connection header names. */
export function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = new Set(
    String(headers['connection'] ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
  return Object.fromEntries(Object.entries(headers).filter(([k, v]) => v !== undefined && !HOP_BY_HOP.has(k) && !named.has(k)));
}

function forwardedFor(req: http.IncomingMessage): string {
  const prior = req.headers['x-forwarded-for'];
  const client = req.socket.remoteAddress ?? '';
  return prior ? `${String(prior)}, ${client}` : client;
}

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
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.tunnel(req, socket, head));
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
    const headers = { ...endToEnd(req.headers), 'x-forwarded-for': forwardedFor(req) };
    const upstream = http.request(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers, agent: this.agentFor(port) },
      (answer) => {
        const status = answer.statusCode ?? 502;
        this.count(port, status >= 500);
        res.writeHead(status, endToEnd(answer.headers));
        answer.pipe(res);
      },
    );
    res.once('close', () => {
      done();
      // The client went away before the answer was complete: the backend stops working for nobody.
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.on('error', (err) => {
      if (res.destroyed) return; // the client left: nothing to answer, no backend error to count
      this.count(port, true);
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`bad gateway: ${err.message}\n`);
      done();
    });
    req.pipe(upstream);
  }

  /**
   * An upgrade (a WebSocket): the request goes to a backend as it came, and from its answer on
   * the two connections are joined, byte for byte, until either side closes. It counts as in
   * flight on its backend for as long as it is open, so draining waits for it (up to its timeout).
   */
  private tunnel(req: http.IncomingMessage, client: Duplex, head: Buffer): void {
    const port = this.pick();
    if (port === undefined) {
      client.end('HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nno healthy backend\n');
      return;
    }
    this.inflight.set(port, this.inFlight(port) + 1);
    let open = true;
    const done = (): void => {
      if (!open) return;
      open = false;
      this.inflight.set(port, this.inFlight(port) - 1);
    };
    const upstream = net.connect(port, '127.0.0.1', () => {
      const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\nx-forwarded-for: ${forwardedFor(req)}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => {
      this.count(port, true);
      client.destroy();
    });
    client.on('error', () => upstream.destroy());
    upstream.on('close', () => {
      client.destroy();
      done();
    });
    client.on('close', () => {
      upstream.destroy();
      done();
    });
  }
}

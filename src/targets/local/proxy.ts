/**
 * The front proxy of a local MicroService: it owns the public port and forwards each HTTP
 * request to the current backend process, so a new version can be started beside the old one
 * and traffic switched between requests. Counts requests in flight per backend, so the old
 * version is stopped only after it has answered everything it was given.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export class SwitchingProxy {
  private server: http.Server | undefined;
  private target: number | undefined;
  private readonly inflight = new Map<number, number>();
  private readonly agents = new Map<number, http.Agent>();

  /** The backend port requests go to now (undefined: answer 503). */
  get backend(): number | undefined {
    return this.target;
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

  switchTo(port: number | undefined): void {
    this.target = port;
  }

  inFlight(port: number): number {
    return this.inflight.get(port) ?? 0;
  }

  /** Resolves when `port` has no request in flight, or after `timeoutMs`. */
  async drain(port: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight(port) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const drained = this.inFlight(port) === 0;
    this.agents.get(port)?.destroy();
    this.agents.delete(port);
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

  private agentFor(port: number): http.Agent {
    let agent = this.agents.get(port);
    if (!agent) {
      agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
      this.agents.set(port, agent);
    }
    return agent;
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const port = this.target;
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
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`bad gateway: ${err.message}\n`);
      done();
    });
    req.pipe(upstream);
  }
}

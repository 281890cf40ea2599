import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { get } from '../../../test/helpers/http.js';
import { freePort } from '../../../test/helpers/testdir.js';
import { SwitchingProxy } from './proxy.js';

const servers: http.Server[] = [];
const proxies: SwitchingProxy[] = [];

afterEach(async () => {
  for (const p of proxies.splice(0)) await p.close();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A backend answering with its name; `/slow` answers after `release()` is called. */
async function backend(name: string): Promise<{ port: number; release: () => void }> {
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  const server = http.createServer((req, res) => {
    if (req.url === '/slow') void held.then(() => res.end(`${name} slow`));
    else res.end(name);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, release };
}

async function proxy(): Promise<{ proxy: SwitchingProxy; port: number }> {
  const p = new SwitchingProxy();
  proxies.push(p);
  const port = await p.listen(await freePort());
  return { proxy: p, port };
}

describe('SwitchingProxy', () => {
  it('answers 503 until it has a backend, then forwards to the current one', async () => {
    const { proxy: p, port } = await proxy();
    expect((await get(port)).status).toBe(503);
    const blue = await backend('blue');
    const green = await backend('green');
    p.switchTo(blue.port);
    expect((await get(port)).body).toBe('blue');
    p.switchTo(green.port);
    expect((await get(port)).body).toBe('green');
    expect(p.backend).toBe(green.port);
  });

  it('counts requests in flight per backend and drains the old one after a switch', async () => {
    const { proxy: p, port } = await proxy();
    const blue = await backend('blue');
    const green = await backend('green');
    p.switchTo(blue.port);
    const slow = get(port, '/slow');
    while (p.inFlight(blue.port) === 0) await new Promise((r) => setTimeout(r, 5));
    p.switchTo(green.port);
    expect((await get(port)).body).toBe('green');
    const drained = p.drain(blue.port, 10_000);
    blue.release();
    expect(await drained).toBe(true);
    expect((await slow).body).toBe('blue slow');
    expect(p.inFlight(blue.port)).toBe(0);
  });

  it('splits traffic by weight, evenly interleaved, and counts errors per backend', async () => {
    const { proxy: p, port } = await proxy();
    const blue = await backend('blue');
    const green = await backend('green');
    p.setBackends([
      { port: blue.port, weight: 3 },
      { port: green.port, weight: 1 },
    ]);
    const answers: string[] = [];
    for (let i = 0; i < 8; i++) answers.push((await get(port)).body);
    expect(answers.filter((a) => a === 'green')).toHaveLength(2);
    expect(answers.slice(0, 4).filter((a) => a === 'green')).toHaveLength(1);
    expect(p.statsOf(blue.port)).toEqual({ requests: 6, errors: 0 });
    const gone = await freePort();
    p.setBackends([{ port: gone, weight: 1 }]);
    await get(port);
    expect(p.statsOf(gone)).toEqual({ requests: 1, errors: 1 });
    expect(p.backends).toEqual([{ port: gone, weight: 1 }]);
  });

  it('answers 502 when the backend is gone', async () => {
    const { proxy: p, port } = await proxy();
    p.switchTo(await freePort());
    const r = await get(port);
    expect(r.status).toBe(502);
    expect(r.body).toMatch(/bad gateway/);
  });

  it('refuses a port that is taken', async () => {
    const { port } = await proxy();
    const second = new SwitchingProxy();
    await expect(second.listen(port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('drops hop-by-hop headers both ways and says who asked', async () => {
    let seen: http.IncomingHttpHeaders = {};
    const server = http.createServer((req, res) => {
      seen = req.headers;
      res.writeHead(200, { connection: 'x-resp-hop', 'x-resp-hop': 'a', 'x-resp': 'b' }).end('ok');
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { proxy: p, port } = await proxy();
    p.switchTo((server.address() as AddressInfo).port);
    const answer = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get(
        { host: '127.0.0.1', port, path: '/', headers: { connection: 'keep-alive, x-hop', 'x-hop': '1', 'x-end': '2', te: 'trailers' } },
        resolve,
      );
      req.on('error', reject);
    });
    answer.resume();
    expect(seen['x-end']).toBe('2');
    expect(seen['x-hop']).toBeUndefined();
    expect(seen['te']).toBeUndefined();
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(answer.headers['x-resp']).toBe('b');
    expect(answer.headers['x-resp-hop']).toBeUndefined();
  });

  it('aborts the upstream request when the client goes away', async () => {
    let arrived!: () => void;
    const got = new Promise<void>((r) => (arrived = r));
    let closed!: () => void;
    const gone = new Promise<void>((r) => (closed = r));
    const server = http.createServer((_req, res) => {
      res.once('close', closed);
      arrived(); // and never answers
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { proxy: p, port } = await proxy();
    const backendPort = (server.address() as AddressInfo).port;
    p.switchTo(backendPort);
    const req = http.get({ host: '127.0.0.1', port, path: '/hang' });
    req.on('error', () => undefined);
    await got;
    expect(p.inFlight(backendPort)).toBe(1);
    req.destroy();
    await gone;
    expect(await p.drain(backendPort, 5_000)).toBe(true);
    expect(p.statsOf(backendPort).errors).toBe(0);
  });

  it('passes upgrades (WebSocket) through to the backend, counted in flight while open', async () => {
    const server = http.createServer((_req, res) => res.end('plain'));
    server.on('upgrade', (req: http.IncomingMessage, socket: import('node:stream').Duplex) => {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\nx-path: ${req.url}\r\n\r\n`);
      socket.pipe(socket);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { proxy: p, port } = await proxy();
    const backendPort = (server.address() as AddressInfo).port;
    p.switchTo(backendPort);
    const { res, socket } = await new Promise<{ res: http.IncomingMessage; socket: import('node:net').Socket }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/chat', headers: { connection: 'Upgrade', upgrade: 'echo' } });
      req.on('upgrade', (r, s) => resolve({ res: r, socket: s }));
      req.on('error', reject);
      req.end();
    });
    expect(res.statusCode).toBe(101);
    expect(res.headers['x-path']).toBe('/chat');
    expect(p.inFlight(backendPort)).toBe(1);
    const echoed = new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString('utf8'))));
    socket.write('ping');
    expect(await echoed).toBe('ping');
    socket.destroy();
    expect(await p.drain(backendPort, 5_000)).toBe(true);
  });
});

/** `deployer serve` with a certificate and key: it answers HTTPS, with that certificate, and nothing in the clear. */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { QUICKSTART } from '../../test/helpers/server.js';
import { repoRoot } from '../../test/helpers/testdir.js';
import { startServer, type RunningServer } from './index.js';

const TLS = path.join(repoRoot, 'test', 'fixtures', 'tls');
const root = mkdtempSync(path.join(os.tmpdir(), 'deployer-tls-'));
let server: RunningServer | undefined;
afterAll(async () => {
  await server?.close(0);
  rmSync(root, { recursive: true, force: true });
});

function get(url: string, ca?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    const req = client.get(url, { ...(ca ? { ca } : {}) }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

describe('deployer serve over TLS', () => {
  it('answers HTTPS with the certificate it was given, and nothing in the clear', async () => {
    const dir = path.join(root, 'quickstart');
    cpSync(QUICKSTART, dir, { recursive: true, filter: (f) => !f.includes(`${path.sep}.deployer`) });
    const cert = readFileSync(path.join(TLS, 'cert.pem'));
    server = await startServer({
      dirs: [dir],
      ledger: path.join(root, 'ledger.db'),
      host: '127.0.0.1',
      port: 0,
      auth: { insecureLocal: true },
      webhooks: {},
      https: { cert, key: readFileSync(path.join(TLS, 'key.pem')) },
    });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await get(`${server.url}/healthz`, cert)).toEqual({ status: 200, body: '{"ok":true}' });
    // A client that does not trust the certificate is refused by TLS itself.
    await expect(get(`${server.url}/healthz`)).rejects.toThrow(/self-signed|self signed/);
    // Plain HTTP to the same port gets no answer of the API.
    const plain = await get(server.url.replace('https:', 'http:') + '/healthz').catch((e: Error) => ({ status: -1, body: e.message }));
    expect(plain.status === 400 || plain.status === -1).toBe(true);
  });
});

/** Alerts: one signed POST per critical finding, tried again on a failure of the server, not on a refusal. */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { sendAlerts, SIGNATURE_HEADER } from './alert.js';
import type { DriftReport } from './drift.js';

const servers: http.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A receiver answering each request with the next status of `answers` (the last one after). */
async function receiver(answers: number[]): Promise<{ url: string; got: Array<{ body: string; signature?: string }> }> {
  const got: Array<{ body: string; signature?: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const signature = req.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined;
      got.push({ body, ...(signature ? { signature } : {}) });
      res.writeHead(answers.length > 1 ? answers.shift()! : answers[0]!).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, got };
}

const report = {
  stack: 's',
  environment: 'prod',
  checkedAt: '2026-12-03T00:00:00.000Z',
  serial: 3,
  components: [
    {
      id: 'data/files',
      findings: [
        { component: 'data/files', kind: 'missing', path: '', severity: 'critical', message: 'gone' },
        { component: 'data/files', kind: 'resource', path: 'tags.a', severity: 'warning', message: 'x' },
      ],
    },
    { id: 'web/api', findings: [{ component: 'web/api', kind: 'resource', path: 'publicAccess', severity: 'critical', message: 'y' }] },
  ],
} as unknown as DriftReport;

describe('sendAlerts', () => {
  it('POSTs each critical finding once, signed with HMAC-SHA256 of the body', async () => {
    const r = await receiver([204]);
    expect(await sendAlerts({ url: r.url, secret: 'k' }, report)).toEqual({ sent: 2, failed: [] });
    expect(r.got.map((g) => (JSON.parse(g.body) as { finding: { component: string } }).finding.component)).toEqual([
      'data/files',
      'web/api',
    ]);
    for (const g of r.got) expect(g.signature).toBe(`sha256=${createHmac('sha256', 'k').update(g.body).digest('hex')}`);
  });

  it('tries a 5xx again with a doubling pause; a 4xx is refused at once; no secret, no signature', async () => {
    const flaky = await receiver([503, 502, 200]);
    expect(await sendAlerts({ url: flaky.url, backoffMs: 1 }, report)).toEqual({ sent: 2, failed: [] });
    expect(flaky.got).toHaveLength(4);
    expect(flaky.got[0]).not.toHaveProperty('signature');
    const refusing = await receiver([404]);
    const out = await sendAlerts({ url: refusing.url, backoffMs: 1 }, report);
    expect(out.sent).toBe(0);
    expect(out.failed).toEqual([
      { component: 'data/files', path: '', error: 'the webhook answered 404' },
      { component: 'web/api', path: 'publicAccess', error: 'the webhook answered 404' },
    ]);
    expect(refusing.got).toHaveLength(2);
  });

  it('gives up after its tries when the server never answers well, and says so', async () => {
    const down = await receiver([500]);
    const out = await sendAlerts({ url: down.url, attempts: 2, backoffMs: 1 }, report);
    expect(out.failed[0]!.error).toBe('the webhook answered 500 (after 2 tries)');
    expect(down.got).toHaveLength(4);
  });
});

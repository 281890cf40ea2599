/**
 * Idempotency where it is hardest: over an SQLite ledger (the claim is a unique key of its
 * file), 20 concurrent identical deliveries to one server, and deliveries split between two
 * servers over the same file, each record once.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteLedger } from '../../ledger/sqlite.js';
import { testServer, type TestServer } from '../../../test/helpers/server.js';
import { useTempDirs } from '../../../test/helpers/tmp.js';
import { github, GITHUB_SECRET, pushPayload, REPO_ID, ROLLBACK, send, sha } from '../../../test/helpers/webhooks.js';

const tempDir = useTempDirs('webhooks-sqlite');
const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function start(file: string): Promise<TestServer> {
  const s = await testServer({ ledger: new SqliteLedger(file), webhooks: { github: GITHUB_SECRET, generic: { ci: 'ci-secret' } } });
  servers.push(s);
  return s;
}

describe('webhooks over an SQLite ledger', () => {
  it('records 20 concurrent identical deliveries once', async () => {
    const { app, ledger } = await start(path.join(tempDir(), 'ledger.db'));
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => send(app, '/webhooks/ci', ROLLBACK, { secret: 'ci-secret', delivery: 'one' })),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(200));
    expect(answers.filter((a) => a.json().duplicate)).toHaveLength(19);
    expect(await ledger.listRollbacks()).toHaveLength(1);
    expect((await ledger.access().listAudit({ action: 'webhook' })).filter((r) => r.detail['result'] === 'duplicate')).toHaveLength(19);
  });

  it('records once when two servers over the same file receive the same deliveries at once', async () => {
    const file = path.join(tempDir(), 'ledger.db');
    const a = await start(file);
    const b = await start(file);
    const deliveries = ['d1', 'd2', 'd3', 'd4', 'd5'];
    const answers = await Promise.all(
      deliveries.flatMap((delivery) => [a, b, a, b].map((s) => send(s.app, '/webhooks/ci', ROLLBACK, { secret: 'ci-secret', delivery }))),
    );
    expect(answers.every((r) => r.statusCode === 200)).toBe(true);
    expect(answers.filter((r) => !r.json().duplicate)).toHaveLength(deliveries.length);
    expect(await a.ledger.listRollbacks()).toHaveLength(deliveries.length);
    expect(await b.ledger.listRollbacks()).toHaveLength(deliveries.length);
    // A GitHub replay to the other server is a duplicate there too.
    const push = { ref: 'refs/heads/main', commits: [], repository: { name: 'r', clone_url: 'https://github.com/o/r.git' } };
    expect((await github(a.app, 'push', push, { delivery: 'g1' })).json().duplicate).toBe(false);
    expect((await github(b.app, 'push', push, { delivery: 'g1' })).json().duplicate).toBe(true);
  });

  it('records the commits of 40 concurrent pushes (written together), each once, overlapping ones included', async () => {
    const { app, ledger } = await start(path.join(tempDir(), 'ledger.db'));
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        github(
          app,
          'push',
          pushPayload([
            { id: sha(i), timestamp: '2026-03-01T09:00:00Z' },
            { id: sha(i + 1), timestamp: '2026-03-01T09:00:00Z' },
          ]),
        ),
      ),
    );
    expect(answers.every((a) => a.statusCode === 200 && a.json().changes === 2)).toBe(true);
    expect((await ledger.pendingChanges(REPO_ID)).map((c) => c.commit).sort()).toEqual(Array.from({ length: 41 }, (_, i) => sha(i)).sort());
  });
});

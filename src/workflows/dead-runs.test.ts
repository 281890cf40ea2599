/** The ledger records runs left in progress: closed as failed, saying why, unless their run may still be alive. */
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import type { DeploymentEvent, LedgerStore } from '../ledger/index.js';
import { MemoryLedger } from '../ledger/memory.js';
import type { AcquiredLock, LockInfo } from '../lock/index.js';
import { closeAbandoned } from './dead-runs.js';

const row = (id: string, parentId: string, stack = 'shop'): DeploymentEvent => ({
  id,
  stack,
  service: 'web',
  version: 'v',
  environment: 'prod',
  type: 'rolling',
  started: '2026-01-01T00:00:00Z',
  completed: null,
  status: 'in-progress',
  initiator: 'a@b',
  metadata: {},
  parentId,
});
const holder = (runId: string, over: Partial<LockInfo> = {}): LockInfo => ({
  lockKey: 'k',
  lockId: `lock-${runId}`,
  lockedBy: 'ci@elsewhere',
  lockedAt: new Date(),
  expiresAt: new Date(),
  metadata: { deployment_id: runId },
  ...over,
});
const took = (...holders: LockInfo[]): AcquiredLock[] => holders.map((h) => ({ ...holder('me'), takenOverFrom: h }));

async function ledgerWith(rows: DeploymentEvent[]): Promise<LedgerStore> {
  const l = new MemoryLedger();
  for (const r of rows) await l.recordDeployment(r);
  return l;
}
const statusOf = async (l: LedgerStore): Promise<Record<string, string>> =>
  Object.fromEntries((await l.listDeployments()).map((d) => [d.id, `${d.status} ${String(d.metadata['reason'] ?? '')}`.trim()]));

describe('closing what runs left in progress', () => {
  it('under the stack lock: every in-progress record of the stack, those of a taken-over run saying so', async () => {
    const l = await ledgerWith([row('a', 'dead'), row('b', 'forced'), row('c', 'other', 'billing')]);
    expect(
      await closeAbandoned(l, { locks: took(holder('dead')), level: 'stack', stack: 'shop', environment: 'prod' }, () => undefined),
    ).toBe(2);
    expect(await statusOf(l)).toEqual({
      a: expect.stringMatching(/^failed the run died before it finished \(its lock lock-dead, held by ci@elsewhere, was taken over\)$/),
      b: expect.stringMatching(/^failed the run ended without finishing it \(it was killed, or its lock was broken\)/),
      c: 'in-progress', // another stack's
    });
  });

  it('under service locks: only those of runs whose locks were taken over; a holder alive on this host keeps its records', async () => {
    const alive = holder('alive', { lockedBy: `ana@${os.hostname()}`, metadata: { deployment_id: 'alive', pid: String(process.pid) } });
    const l = await ledgerWith([row('a', 'dead'), row('b', 'concurrent'), row('c', 'alive')]);
    expect(
      await closeAbandoned(
        l,
        { locks: took(holder('dead'), alive), level: 'service', stack: 'shop', environment: 'prod' },
        () => undefined,
      ),
    ).toBe(1);
    expect(await statusOf(l)).toMatchObject({ a: expect.stringMatching(/^failed /), b: 'in-progress', c: 'in-progress' });
  });
});

/**
 * Runs as traces, exported for real: the workflows over the memory stores and the scripted engine
 * (as locked-run.test.ts runs them), their listener wrapped by traceRun, spans sent by
 * util/tracing.ts's OTLP/HTTP exporter to a receiver listening on 127.0.0.1, and read back there:
 * the run's span, one span per component under it with its service, version and result, the
 * automatic rollback's components under a span of their own, and a run that throws.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeEngine, fakeTarget, settingsFor, type Step } from '../../test/helpers/fake-engine.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../../test/helpers/otlp-receiver.js';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import type { RunEvent } from '../executor/events.js';
import { MemoryLedger } from '../ledger/memory.js';
import { MemoryLockManager } from '../lock/memory.js';
import { MemoryStateStore } from '../state/memory.js';
import { startTracing, type Tracing } from '../util/tracing.js';
import { applyStack, destroyStack } from './apply.js';
import type { Operation, RunContext, RunOutcome } from './context.js';
import { rollbackToVersion } from './rollback.js';
import { traceRun } from './tracing.js';

let receiver: OtlpReceiver;
beforeAll(async () => (receiver = await startOtlpReceiver()));
afterAll(async () => {
  await receiver.close();
  removeTestdirs();
});
beforeEach(() => void receiver.spans.splice(0));

const s3 = (service: string, name: string, extra = ''): string =>
  `apiVersion: components.deployer.io/v1\nkind: S3\nmetadata:\n  name: ${name}\n  service: ${service}\nspec:\n  bucketName: ${service}-${name}${extra}\n`;
const service = (name: string, version?: string): string =>
  `apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: ${name}\n${version ? `spec:\n  version: '${version}'\n` : ''}`;

/** data/files <- app/a <- app/b, and other/logs on its own; app is version 2.1.0, the others a hash of their specs. */
const stack = (): string =>
  writeStackDir({
    'stack.yaml': `apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: shop\nspec:\n  environments: [dev]\n  target: local\n`,
    'services/data/service.yaml': service('data'),
    'services/app/service.yaml': service('app', '2.1.0'),
    'services/other/service.yaml': service('other'),
    'services/data/files.yaml': s3('data', 'files'),
    'services/app/a.yaml': s3('app', 'a', '\n  dependsOn: [data/files]'),
    'services/app/b.yaml': s3('app', 'b', '\n  dependsOn: [app/a]'),
    'services/other/logs.yaml': s3('other', 'logs'),
  });

/** Runs on one stack directory sharing one state store, lock manager, ledger and engine, each traced. */
function world(script: (op: 'up' | 'destroy', id: string) => Step | undefined = () => undefined) {
  const dir = stack();
  const store = new MemoryStateStore();
  const locks = new MemoryLockManager();
  const records = new MemoryLedger().records;
  const engine = new FakeEngine(script);
  /** Runs `workflow` traced, as the CLI does; resolves once its spans are exported, with what the run's own listener saw. */
  const traced = async (
    operation: Operation,
    workflow: (ctx: RunContext) => Promise<RunOutcome>,
    over: Partial<RunContext> = {},
  ): Promise<{ outcome?: RunOutcome; error?: unknown; events: RunEvent[] }> => {
    const tracing = (await startTracing('deployer-test', {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint },
      serviceVersion: '9.9.9',
    })) as Tracing;
    const events: RunEvent[] = [];
    const run = traceRun(tracing, operation, (e) => events.push(e));
    const ctx: RunContext = {
      settings: settingsFor(dir),
      listener: run.listener,
      dependencies: { store, locks, target: fakeTarget, openLedger: () => new MemoryLedger(records), engine: async () => engine },
      ...over,
    };
    try {
      const outcome = await workflow(ctx);
      run.end({ outcome });
      return { outcome, events };
    } catch (error) {
      run.end({ error });
      return { error, events };
    } finally {
      await tracing.shutdown();
    }
  };
  return { traced, locks, ledger: () => new MemoryLedger(records) };
}

const named = (name: string): ReceivedSpan[] => receiver.spans.filter((s) => s.name === name);
const childrenOf = (parent: ReceivedSpan): ReceivedSpan[] => receiver.spans.filter((s) => s.parentSpanId === parent.spanId);
const byComponent = (spans: ReceivedSpan[]): Record<string, ReceivedSpan> =>
  Object.fromEntries(spans.map((s) => [String(s.attributes['deployer.component']), s]));

/** The one run span received (a root span). */
function theRun(): ReceivedSpan {
  const runs = named('deployer.run');
  expect(runs).toHaveLength(1);
  expect(runs[0]!.parentSpanId).toBeUndefined();
  return runs[0]!;
}

describe('traced runs', () => {
  it('a failed apply: the run, a span per component under it, and the rollback with what it put back', async () => {
    const w = world((op, id) => (op === 'up' && id === 'app/a' ? { fail: 'no such bucket' } : undefined));
    const { outcome, events } = await w.traced('apply', applyStack);
    if (outcome?.status !== 'done') throw new Error(`not done: ${JSON.stringify(outcome)}`);
    // The run's own listener saw every event, the plan with the versions the trace takes.
    expect(events.map((e) => e.type)).toContain('summary');
    expect(events.find((e) => e.type === 'plan')).toMatchObject({ versions: { app: '2.1.0' } });

    const run = theRun();
    expect(run.resource).toMatchObject({ 'service.name': 'deployer-test', 'service.version': '9.9.9' });
    expect(run.attributes).toEqual({
      'deployer.operation': 'apply',
      'deployer.stack': 'shop',
      'deployer.environment': 'dev',
      'deployer.run_id': outcome.summary.runId,
      'deployer.result': 'rolled-back',
    });
    expect([run.statusCode, run.statusMessage]).toEqual([2, 'failed: app/a']);

    // One span per component the run deployed, each a child of the run, with the version the ledger records.
    const versions = Object.fromEntries((await w.ledger().listDeployments()).map((d) => [d.service, d.version]));
    expect(versions['app']).toBe('2.1.0');
    const deployed = byComponent(childrenOf(run).filter((s) => s.name === 'deployer.component'));
    expect(Object.keys(deployed).sort()).toEqual(['app/a', 'app/b', 'data/files', 'other/logs']);
    for (const [id, span] of Object.entries(deployed)) {
      const svc = id.split('/')[0]!;
      expect(span.traceId).toBe(run.traceId);
      expect(span.attributes).toMatchObject({
        'deployer.component': id,
        'deployer.service': svc,
        'deployer.version': versions[svc],
        'deployer.environment': 'dev',
        'deployer.action': 'create',
      });
      expect(span.startNs <= span.endNs && span.startNs >= run.startNs && span.endNs <= run.endNs).toBe(true);
    }
    expect(deployed['data/files']!.attributes['deployer.result']).toBe('created');
    expect(deployed['data/files']!.statusCode).toBe(0);
    expect(deployed['app/a']!.attributes['deployer.result']).toBe('failed');
    expect(deployed['app/a']!.statusCode).toBe(2);
    expect(deployed['app/a']!.statusMessage).toContain('no such bucket');
    expect(deployed['app/b']!.attributes).toMatchObject({ 'deployer.result': 'skipped', 'deployer.reason': 'upstream failed: app/a' });

    // The automatic rollback: a span under the run, the components it destroyed again under it.
    const rollbacks = named('deployer.rollback');
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]!.parentSpanId).toBe(run.spanId);
    expect(rollbacks[0]!.attributes['deployer.reason']).toMatch(/^app\/a failed: /);
    const undone = byComponent(childrenOf(rollbacks[0]!));
    expect(Object.keys(undone).sort()).toEqual(['app/a', 'data/files', 'other/logs']);
    for (const span of Object.values(undone)) {
      expect(span.attributes).toMatchObject({ 'deployer.action': 'delete', 'deployer.result': 'deleted', 'deployer.rollback': true });
      expect(span.attributes['deployer.version']).toBeUndefined();
    }
    expect(receiver.refused).toEqual([]);
  });

  it('a successful apply, then one with nothing to do: spans only for what was deployed', async () => {
    const w = world();
    await w.traced('apply', applyStack);
    let run = theRun();
    expect(run.attributes['deployer.result']).toBe('success');
    expect(run.statusCode).toBe(0);
    expect(childrenOf(run).map((s) => s.attributes['deployer.result'])).toEqual(['created', 'created', 'created', 'created']);

    receiver.spans.splice(0);
    await w.traced('apply', applyStack);
    run = theRun();
    expect(run.attributes).toMatchObject({ 'deployer.result': 'success', 'deployer.stack': 'shop' });
    expect(childrenOf(run)).toEqual([]);

    receiver.spans.splice(0);
    await w.traced('destroy', destroyStack);
    run = theRun();
    expect(run.attributes).toMatchObject({ 'deployer.operation': 'destroy', 'deployer.result': 'success' });
    const destroyed = byComponent(childrenOf(run));
    expect(Object.keys(destroyed).sort()).toEqual(['app/a', 'app/b', 'data/files', 'other/logs']);
    expect(destroyed['app/b']!.attributes).toMatchObject({
      'deployer.action': 'delete',
      'deployer.result': 'deleted',
      'deployer.version': '2.1.0',
    });
  });

  it('a run that throws, one declined and one with nothing to do each end their span, saying so', async () => {
    const w = world();
    await w.locks.acquire({ lockKey: 'stack:shop:env:dev', ttlMs: 60_000, lockedBy: 'someone@elsewhere', metadata: {} });
    const { error } = await w.traced('apply', applyStack);
    expect(error).toBeInstanceOf(Error);
    let run = theRun();
    expect(run.attributes['deployer.result']).toBe('error');
    expect([run.statusCode, run.statusMessage]).toEqual([2, (error as Error).message]);
    expect(run.events).toEqual(['exception']);

    receiver.spans.splice(0);
    const w2 = world();
    await w2.traced('apply', applyStack, { confirm: async () => false });
    run = theRun();
    expect(run.attributes).toMatchObject({ 'deployer.result': 'declined', 'deployer.stack': 'shop', 'deployer.environment': 'dev' });
    expect(run.statusCode).toBe(0);

    // A rollback with no earlier good version to go back to: nothing is done.
    await w2.traced('apply', applyStack);
    receiver.spans.splice(0);
    await w2.traced('rollback', (ctx) => rollbackToVersion(ctx, 'last-good'));
    run = theRun();
    expect(run.attributes).toEqual({ 'deployer.operation': 'rollback', 'deployer.result': 'nothing' });
  });

  it('events the workflows above send alike: a lost lock, a rollback that fails, an error that is no Error', async () => {
    const tracing = (await startTracing('deployer-test', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.endpoint}/` } }))!;
    const seen: RunEvent['type'][] = [];
    const run = traceRun(tracing, 'apply', (e) => seen.push(e.type));
    const plan = {
      stack: 'shop',
      environment: 'dev',
      lineage: null,
      serial: 0,
      actions: [],
      waves: [],
      summary: { create: 0, update: 0, replace: 0, delete: 0, noop: 0 },
    };
    const events: RunEvent[] = [
      { type: 'plan', plan },
      { type: 'lock-lost', reason: 'renewal refused' },
      { type: 'rollback-start', reason: 'app/a failed', plan },
      {
        type: 'component-done',
        report: { id: 'app/a', action: 'delete', result: 'cancelled', reason: 'cancelled before it started', engine: false },
      },
      {
        type: 'rollback-done',
        rollback: {
          triggers: ['app/a'],
          reason: 'app/a failed',
          ok: false,
          components: [],
          startedAt: new Date().toISOString(),
          durationMs: 1,
          sinceFailureMs: 1,
        },
      },
      { type: 'rollback-start', reason: 'again', plan },
    ];
    for (const e of events) run.listener(e);
    run.end({ error: 'the lease was lost' });
    run.end({ error: new Error('a second end does nothing') });
    await tracing.shutdown();
    expect(seen).toEqual(events.map((e) => e.type));
    const root = theRun();
    expect(root.events).toEqual(['lock lost', 'exception']);
    expect([root.statusCode, root.statusMessage, root.attributes['deployer.result']]).toEqual([2, 'the lease was lost', 'error']);
    const [failed, cut] = named('deployer.rollback');
    expect([failed!.statusCode, failed!.statusMessage]).toEqual([2, 'not every component went back']);
    // A rollback still open when the run ends ends with it.
    expect(cut!.attributes['deployer.reason']).toBe('again');
    const [cancelled] = childrenOf(failed!);
    expect(cancelled!.attributes).toMatchObject({
      'deployer.result': 'cancelled',
      'deployer.reason': 'cancelled before it started',
      'deployer.rollback': true,
    });
    expect(cancelled!.startNs).toBe(cancelled!.endNs);
  });
});

import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../executor/events.js';
import { liveBlock, progressRenderer } from './progress.js';
import { summaryText } from './render.js';

const start: RunEvent = { type: 'component-start', id: 'web/api', action: 'update' };
const step: RunEvent = {
  type: 'component-progress',
  id: 'web/api',
  progress: {
    phase: 'started',
    op: 'update',
    resourceType: 'pulumi-nodejs:dynamic/local:MicroService',
    resourceName: 'api',
    urn: 'u',
  } as never,
};
const done: RunEvent = {
  type: 'component-done',
  report: { id: 'web/api', action: 'update', result: 'updated', engine: true, durationMs: 1200 },
};

describe('progress on a terminal', () => {
  it('keeps running components in a redrawn block with spinner, elapsed time and Pulumi step', async () => {
    let screen = '';
    const p = liveBlock((t) => (screen += t), 60, 5);
    p.render(start);
    p.render(step);
    await new Promise((r) => setTimeout(r, 30));
    // The block is drawn, then erased (cursor up, clear) before each redraw.
    expect(screen).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] web\/api {2}update 0s {2}update pulumi-nodejs:\S*…\n/);
    expect(screen).toContain('\x1b[1A\x1b[0J');
    p.render(done);
    p.close();
    expect(screen).toMatch(/web\/api +updated \(1\.2s\)\n$/);
    // Engine steps are shown in the block only, not as scrolling lines.
    expect(screen).not.toMatch(/\] web\/api +update pulumi/);
  });
});

describe('progress as JSON events', () => {
  it('writes each event as one JSON line on stderr', () => {
    const err: string[] = [];
    const p = progressRenderer(
      { stdout: { write: () => true }, stderr: { write: (t: string) => err.push(t) }, interactive: false, env: {} },
      true,
      () => undefined,
    );
    p.render(start);
    p.note('Interrupted\n');
    expect(err.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      {
        time: expect.any(String),
        type: 'component-start',
        id: 'web/api',
        action: 'update',
        message: 'web/api               update started',
      },
      { time: expect.any(String), type: 'notice', message: 'Interrupted' },
    ]);
  });
});

describe('the summary of a run that rolled back', () => {
  const summary = (rollbackResults: Array<'updated' | 'failed'>): string =>
    summaryText({
      runId: 'r',
      operation: 'apply',
      stack: 's',
      environment: 'e',
      ok: false,
      counts: { created: 0, updated: 0, replaced: 0, deleted: 0, unchanged: 0, failed: 1, skipped: 0, cancelled: 0 },
      engineOperations: 2,
      durationMs: 1000,
      components: [{ id: 'web/api', action: 'update', result: 'failed', engine: true }],
      serial: 3,
      rollback: {
        triggers: ['web/api'],
        reason: 'web/api failed',
        ok: rollbackResults.every((r) => r !== 'failed'),
        components: rollbackResults.map((result, i) => ({ id: `web/c${i}`, action: 'update', result, engine: true })),
        startedAt: '2026-01-01T00:00:00Z',
        durationMs: 500,
        sinceFailureMs: 500,
      },
    });

  it('says what came back, and never claims a failed rollback returned what it did not', () => {
    expect(summary(['updated', 'updated'])).toMatch(
      /Rolled back: 2 component\(s\) returned to the previous version \(0\.5s after the failure\)\./,
    );
    expect(summary(['failed'])).toMatch(
      /The rollback failed \(0\.5s after the failure\): 0 of 1 component\(s\) returned to the previous version; not returned: web\/c0 failed\./,
    );
    expect(summary(['updated', 'failed'])).toMatch(
      /The rollback failed .*: 1 of 2 component\(s\) returned to the previous version; not returned: web\/c1 failed\./,
    );
  });
});

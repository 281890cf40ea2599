import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../executor/events.js';
import { liveBlock, progressRenderer } from './progress.js';

const start: RunEvent = { type: 'component-start', id: 'web/api', action: 'update' };
const step: RunEvent = { type: 'component-progress', id: 'web/api', progress: { phase: 'started', op: 'update', resourceType: 'pulumi-nodejs:dynamic/local:MicroService', resourceName: 'api', urn: 'u' } as never };
const done: RunEvent = { type: 'component-done', report: { id: 'web/api', action: 'update', result: 'updated', engine: true, durationMs: 1200 } };

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
    const p = progressRenderer({ stdout: { write: () => true }, stderr: { write: (t: string) => err.push(t) }, interactive: false, env: {} }, true, () => undefined);
    p.render(start);
    p.note('Interrupted\n');
    expect(err.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      { time: expect.any(String), type: 'component-start', id: 'web/api', action: 'update', message: 'web/api               update started' },
      { time: expect.any(String), type: 'notice', message: 'Interrupted' },
    ]);
  });
});

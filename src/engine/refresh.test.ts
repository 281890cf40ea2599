/** A refresh preview's readings from the checkpoint it started from and the engine's events. */
import type { EngineEvent } from '@pulumi/pulumi/automation/index.js';
import { describe, expect, it } from 'vitest';
import { refreshPreviewOf } from './refresh.js';

const urn = (type: string, name: string): string => `urn:pulumi:s.e.web.api::deployer::${type}::${name}`;
const TYPE = 'pulumi-nodejs:dynamic/local:MicroService';

function outputs(type: string, name: string, old: Record<string, unknown>, now: Record<string, unknown> | undefined): EngineEvent {
  return {
    sequence: 1,
    timestamp: 0,
    resOutputsEvent: {
      metadata: {
        op: now ? 'same' : 'delete',
        urn: urn(type, name),
        type,
        provider: '',
        old: { type, urn: urn(type, name), id: 'x', parent: '', provider: '', inputs: {}, outputs: old },
        ...(now ? { new: { type, urn: urn(type, name), id: 'x', parent: '', provider: '', inputs: {}, outputs: now } } : {}),
      },
    },
  } as unknown as EngineEvent;
}

describe('refreshPreviewOf', () => {
  it('reads each resource of ours as same, changed or gone, whatever the step says, and leaves the stack and providers out', () => {
    const preview = refreshPreviewOf({ pending_operations: [] }, [
      outputs('pulumi:pulumi:Stack', 's', {}, {}),
      outputs('pulumi:providers:pulumi-nodejs', 'default', {}, {}),
      outputs(TYPE, 'same', { a: 1 }, { a: 1 }),
      outputs(TYPE, 'changed', { a: 1 }, { a: 2 }),
      outputs(TYPE, 'gone', { a: 1 }, undefined),
    ]);
    expect(preview.resources.map((r) => [r.name, r.change])).toEqual([
      ['same', 'same'],
      ['changed', 'changed'],
      ['gone', 'gone'],
    ]);
    expect(preview.resources[1]).toMatchObject({ recorded: { a: 1 }, actual: { a: 2 } });
    expect(preview.resources[2]!.actual).toBeUndefined();
    expect(preview.pending).toEqual([]);
  });

  it('lists the operations a killed run left pending in the checkpoint', () => {
    const deployment = { pending_operations: [{ resource: { urn: urn(TYPE, 'api'), type: TYPE }, type: 'updating' }] };
    expect(refreshPreviewOf(deployment, []).pending).toEqual([{ urn: urn(TYPE, 'api'), type: TYPE, operation: 'updating' }]);
    expect(refreshPreviewOf(undefined, []).pending).toEqual([]);
  });
});

/**
 * What a preview of `pulumi refresh` says of one component's stack (drift detection): for each
 * resource, the outputs its checkpoint records beside what its provider reads now, and the
 * operations a killed run left pending. Pure: made from the exported checkpoint and the
 * engine's events.
 */
import type { EngineEvent } from '@pulumi/pulumi/automation/index.js';
import { canonicalJson } from '../model/hash.js';

/** One resource as the checkpoint records it and as its provider reads it now. */
export interface RefreshedResource {
  urn: string;
  type: string;
  name: string;
  /** `same`: what is there is what was recorded; `changed`: it differs; `gone`: its provider finds nothing. */
  change: 'same' | 'changed' | 'gone';
  /** The outputs recorded in the checkpoint (secret values as Pulumi masks them in events). */
  recorded: Record<string, unknown>;
  /** The outputs read now; undefined when it is gone. */
  actual: Record<string, unknown> | undefined;
}

/** An operation a run started on a resource and never finished (it was killed). */
export interface PendingOperation {
  urn: string;
  type: string;
  /** `creating`, `updating`, `deleting`, `reading`. */
  operation: string;
}

export interface RefreshPreview {
  resources: RefreshedResource[];
  pending: PendingOperation[];
}

const nameOf = (urn: string): string => urn.split('::').pop() ?? urn;
const ours = (type: string): boolean => type !== 'pulumi:pulumi:Stack' && !type.startsWith('pulumi:providers:');

/** The preview of a refresh from the checkpoint it started from and the events it sent. */
export function refreshPreviewOf(deployment: unknown, events: readonly EngineEvent[]): RefreshPreview {
  const pending = ((deployment as { pending_operations?: unknown[] } | undefined)?.pending_operations ?? []).map((p) => {
    const op = p as { resource?: { urn?: string; type?: string }; type?: string };
    return { urn: op.resource?.urn ?? '', type: op.resource?.type ?? '', operation: op.type ?? 'unknown' };
  });
  const resources: RefreshedResource[] = [];
  for (const e of events) {
    const meta = e.resOutputsEvent?.metadata;
    if (!meta || !ours(meta.type)) continue;
    const recorded = meta.old?.outputs ?? {};
    const gone = meta.op === 'delete' || meta.new === undefined;
    // A refresh's step says `same` even when what it read differs: the outputs say.
    const changed = !gone && canonicalJson(meta.new?.outputs) !== canonicalJson(recorded);
    resources.push({
      urn: meta.urn,
      type: meta.type,
      name: nameOf(meta.urn),
      change: gone ? 'gone' : changed ? 'changed' : 'same',
      recorded,
      actual: gone ? undefined : (meta.new?.outputs ?? recorded),
    });
  }
  return { resources, pending };
}

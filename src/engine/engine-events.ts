/**
 * What deployer reads of Pulumi's engine events, for one stack's operation and for a shared one
 * alike: the error diagnostics (the failure's reason) and the resource steps (progress).
 */
import { stripVTControlCharacters } from 'node:util';
import type { EngineEvent } from '@pulumi/pulumi/automation/index.js';
import type { EngineProgress } from './component-engine.js';

/** Error diagnostics, cleaned of Pulumi's decorations, in the order the engine sent them. */
export function collectDiagnostics(e: EngineEvent, out: string[]): void {
  const d = e.diagnosticEvent;
  if (d && d.severity === 'error') {
    const message = stripAnsi(d.message).trim();
    // The summary line that only repeats the resource errors adds nothing.
    if (message && !/^update failed$/i.test(message) && !out.includes(message)) out.push(message);
  }
  const failed = e.resOpFailedEvent;
  if (failed && out.length === 0) out.push(`${failed.metadata.op} of ${failed.metadata.type} failed`);
}

/** Removes terminal colour codes (we ask for none, but plugins may still send them). */
const stripAnsi = stripVTControlCharacters;

/**
 * A resource step as progress for `stack` (none for the root stack and providers); `nameOf` gives
 * the resource's name from its URN (a shared operation's names carry their component's scope).
 */
export function toProgress(stack: string, e: EngineEvent, nameOf = lastSegment): EngineProgress | undefined {
  const meta = e.resourcePreEvent?.metadata ?? e.resOutputsEvent?.metadata ?? e.resOpFailedEvent?.metadata;
  if (!meta || meta.type === 'pulumi:pulumi:Stack' || meta.type.startsWith('pulumi:providers:')) return undefined;
  const phase = e.resourcePreEvent ? 'started' : e.resOutputsEvent ? 'done' : 'failed';
  return { stack, op: meta.op, resourceType: meta.type, resourceName: nameOf(meta.urn), phase };
}

function lastSegment(urn: string): string {
  return urn.split('::').pop() ?? urn;
}

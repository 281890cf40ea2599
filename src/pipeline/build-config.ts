/**
 * A component's `spec.build`, read into what the builders need: absolute directories, the
 * timeout in milliseconds, and which builder (a command, or a Dockerfile) it asks for. The
 * schema (defs.schema.json "build") has already checked its shape.
 */
import path from 'node:path';
import type { DesiredComponent } from '../model/desired.js';
import { durationMs } from '../util/duration.js';

export interface BuildConfig {
  component: string;
  /** Absolute directory the build runs in; inputs and outputs are relative to it. */
  context: string;
  builder: { type: 'command'; command: string[] } | { type: 'dockerfile'; dockerfile: string };
  inputs: string[];
  outputs: string[];
  env: Record<string, string>;
  /** Declared by the spec; otherwise asked of the builder (keys.ts). */
  builderVersion?: string;
  timeoutMs: number;
}

/** The build of `c`, or undefined when it builds nothing. */
export function buildConfigOf(c: Pick<DesiredComponent, 'id' | 'spec' | 'baseDir'>): BuildConfig | undefined {
  const b = c.spec['build'] as Record<string, unknown> | undefined;
  if (!b) return undefined;
  const command = b['command'] as string[] | undefined;
  return {
    component: c.id,
    context: path.resolve(c.baseDir, (b['context'] as string | undefined) ?? '.'),
    builder: command ? { type: 'command', command } : { type: 'dockerfile', dockerfile: b['dockerfile'] as string },
    inputs: (b['inputs'] as string[] | undefined) ?? [],
    outputs: (b['outputs'] as string[] | undefined) ?? [],
    env: (b['env'] as Record<string, string> | undefined) ?? {},
    ...(typeof b['builderVersion'] === 'string' ? { builderVersion: b['builderVersion'] } : {}),
    timeoutMs: durationMs(b['timeout'], '15m'),
  };
}

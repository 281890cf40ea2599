/**
 * Substituting `valueFrom` references with the outputs of the components they name. Pure:
 * the caller passes the outputs it knows (from state, or produced earlier in the same run).
 */
import { isValueFrom } from '../model/documents.js';
import { hashOf } from '../model/hash.js';

export type OutputsOf = (componentId: string) => Record<string, unknown> | undefined;

export interface Resolution {
  spec: Record<string, unknown>;
  /** References whose component has no such output (yet). */
  missing: Array<{ component: string; output: string }>;
}

export function resolveSpec(spec: Record<string, unknown>, outputsOf: OutputsOf): Resolution {
  const missing: Resolution['missing'] = [];
  const walk = (v: unknown): unknown => {
    if (isValueFrom(v)) {
      const { component, output } = v.valueFrom;
      const outs = outputsOf(component);
      if (!outs || !(output in outs)) {
        missing.push({ component, output });
        return undefined;
      }
      return outs[output];
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return { spec: walk(spec) as Record<string, unknown>, missing };
}

/** The hash of what a component is really deployed with (its spec, references resolved). */
export function inputsHash(resolvedSpec: Record<string, unknown>): string {
  return hashOf(resolvedSpec);
}

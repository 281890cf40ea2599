/**
 * Infrastructure defaults and their precedence, lowest first: InfraDefaults (stack-wide,
 * `spec.components.<Kind>` and `spec.tags`) < ServiceInfraDefaults (the component's service)
 * < ComponentInfra (the component itself) < the component's own `spec`. Maps merge, lists
 * replace (as overlays do).
 */
import { mergeOverlay } from './overlay.js';

type Spec = Record<string, unknown>;

export interface DefaultsLayer {
  /** The partial spec this layer gives, and the pointer of that object in its document. */
  spec: Spec;
  pointer: string;
  /** Which document (its source index among the stack's documents). */
  source: number;
}

interface DefaultsDoc {
  data: unknown;
  source: number;
}

const specOf = (d: DefaultsDoc): Spec => ((d.data as { spec?: Spec }).spec ?? {}) as Spec;

export class DefaultsIndex {
  private readonly infra: DefaultsDoc[] = [];
  private readonly services = new Map<string, DefaultsDoc[]>();
  private readonly components = new Map<string, DefaultsDoc[]>();

  add(kind: string, data: unknown, source: number): void {
    const meta = ((data as { metadata?: { name?: string; service?: string } }).metadata ?? {}) as { name?: string; service?: string };
    if (kind === 'InfraDefaults') this.infra.push({ data, source });
    else if (kind === 'ServiceInfraDefaults' && meta.service)
      this.services.set(meta.service, [...(this.services.get(meta.service) ?? []), { data, source }]);
    else if (kind === 'ComponentInfra' && meta.service && meta.name) {
      const id = `${meta.service}/${meta.name}`;
      this.components.set(id, [...(this.components.get(id) ?? []), { data, source }]);
    }
  }

  /** The stack-wide region of InfraDefaults, if one sets it. */
  region(): string | undefined {
    for (const d of [...this.infra].reverse()) {
      const r = specOf(d)['region'];
      if (typeof r === 'string') return r;
    }
    return undefined;
  }

  /** ComponentInfra documents naming a component that does not exist. */
  unknownComponents(known: ReadonlySet<string>): Array<{ id: string; source: number }> {
    return [...this.components].filter(([id]) => !known.has(id)).flatMap(([id, docs]) => docs.map((d) => ({ id, source: d.source })));
  }

  /** The layers under a component's own spec, lowest precedence first. */
  layers(kind: string, service: string, id: string): DefaultsLayer[] {
    const out: DefaultsLayer[] = [];
    const forKind = (d: DefaultsDoc, base: string): void => {
      const s = specOf(d);
      // {tags} stands at the document's /spec: a pointer /tags/x in it is /spec/tags/x there.
      if (s['tags'] && typeof s['tags'] === 'object') out.push({ spec: { tags: s['tags'] }, pointer: base, source: d.source });
      const k = (s['components'] as Record<string, Spec> | undefined)?.[kind];
      if (k) out.push({ spec: k, pointer: `${base}/components/${kind}`, source: d.source });
    };
    for (const d of this.infra) forKind(d, '/spec');
    for (const d of this.services.get(service) ?? []) forKind(d, '/spec');
    for (const d of this.components.get(id) ?? []) out.push({ spec: specOf(d), pointer: '/spec', source: d.source });
    return out;
  }
}

/** The effective spec: the layers, then the component's own spec on top. */
export function effectiveSpec(own: Spec, layers: DefaultsLayer[]): Spec {
  let spec: Spec = {};
  for (const l of layers) spec = mergeOverlay(spec, l.spec) as Spec;
  return mergeOverlay(spec, own) as Spec;
}

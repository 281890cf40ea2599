/**
 * Dependencies of a component: `valueFrom` references found anywhere in its spec (implicit)
 * and `dependsOn` entries of the component and of its Service (explicit; a bare service name
 * means every component of that service). Indexed once, so resolving 10,000 components is
 * linear.
 */
import { isValueFrom } from '../model/documents.js';
import type { DesiredComponent, Reference } from '../model/desired.js';
import { escapePointer } from '../model/pointer.js';
import { closest } from './suggest.js';

export function collectReferences(spec: unknown): Reference[] {
  const out: Reference[] = [];
  const path: string[] = [];
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return;
    if (isValueFrom(v)) {
      out.push({ path: path.map((p) => `/${escapePointer(p)}`).join(''), component: v.valueFrom.component, output: v.valueFrom.output });
      return;
    }
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
    for (const [k, x] of entries) {
      if (x === null || typeof x !== 'object') continue;
      path.push(k);
      walk(x);
      path.pop();
    }
  };
  walk(spec);
  return out;
}

export interface ReferenceFinding {
  pointer: string;
  message: string;
  rule: string;
}

export class DependencyIndex {
  private readonly ids: Set<string>;
  private readonly byService = new Map<string, string[]>();

  constructor(components: Iterable<DesiredComponent>) {
    const all = [...components];
    this.ids = new Set(all.map((c) => c.id));
    for (const c of all) this.byService.set(c.service, [...(this.byService.get(c.service) ?? []), c.id]);
  }

  private exists(entry: string): boolean {
    return entry.includes('/') ? this.ids.has(entry) : this.byService.has(entry);
  }

  private unknown(pointer: string, entry: string): ReferenceFinding {
    const hint = closest(entry, entry.includes('/') ? [...this.ids] : [...this.byService.keys()]);
    return {
      pointer,
      message: `unknown ${entry.includes('/') ? 'component' : 'service'} "${entry}"${hint ? `; did you mean "${hint}"?` : ''}`,
      rule: 'reference',
    };
  }

  /** Problems of a Service's own `spec.dependsOn`. */
  checkServiceDeps(deps: string[]): ReferenceFinding[] {
    return deps.flatMap((e, i) => (this.exists(e) ? [] : [this.unknown(`/spec/dependsOn/${i}`, e)]));
  }

  validServiceDeps(deps: string[]): string[] {
    return deps.filter((e) => this.exists(e));
  }

  /** Unknown components among the `valueFrom` references of a document that is not a component (resolve() sees only components). */
  checkReferences(references: Reference[]): ReferenceFinding[] {
    return references.flatMap((r) => (this.ids.has(r.component) ? [] : [this.unknown(`/spec${r.path}/valueFrom/component`, r.component)]));
  }

  /** A component's dependencies as component ids, and its unknown references. */
  resolve(component: DesiredComponent, serviceDependsOn: string[]): { dependsOn: string[]; problems: ReferenceFinding[] } {
    const out = new Set<string>();
    const problems: ReferenceFinding[] = [];
    const add = (entry: string, pointer: string): void => {
      if (!this.exists(entry)) return void problems.push(this.unknown(pointer, entry));
      if (entry.includes('/')) out.add(entry);
      else for (const id of this.byService.get(entry)!) out.add(id);
    };
    const own = Array.isArray(component.spec['dependsOn']) ? (component.spec['dependsOn'] as string[]) : [];
    own.forEach((e, i) => add(e, `/spec/dependsOn/${i}`));
    // A service-level dependency never makes a component depend on its own service.
    for (const e of serviceDependsOn) if (e !== component.service && !e.startsWith(`${component.service}/`)) add(e, '/metadata');
    for (const r of component.references) add(r.component, `/spec${r.path}/valueFrom/component`);
    out.delete(component.id);
    return { dependsOn: [...out].sort(), problems };
  }
}

/**
 * Dependencies of a component: `valueFrom` references found anywhere in its spec (implicit)
 * and `dependsOn` entries of the component and of its Service (explicit; a bare service name
 * means every component of that service).
 */
import type { SourceLocation, ValidationProblem } from '../errors.js';
import { isValueFrom } from '../model/documents.js';
import type { DesiredComponent, Reference } from '../model/desired.js';
import { closest } from './suggest.js';
import { escapePointer, locate } from './parse.js';

export function collectReferences(spec: unknown, pointer = ''): Reference[] {
  if (isValueFrom(spec)) return [{ path: pointer, component: spec.valueFrom.component, output: spec.valueFrom.output }];
  if (Array.isArray(spec)) return spec.flatMap((v, i) => collectReferences(v, `${pointer}/${i}`));
  if (spec !== null && typeof spec === 'object') {
    return Object.entries(spec).flatMap(([k, v]) => collectReferences(v, `${pointer}/${escapePointer(k)}`));
  }
  return [];
}

/** Resolves a component's dependencies to component ids and reports unknown targets. */
export function resolveDependsOn(
  component: DesiredComponent,
  serviceDependsOn: string[],
  components: Map<string, DesiredComponent>,
  positions: Map<string, SourceLocation>,
  fallback: SourceLocation,
): { dependsOn: string[]; problems: ValidationProblem[] } {
  const out = new Set<string>();
  const problems: ValidationProblem[] = [];
  const ids = [...components.keys()];
  const services = new Set([...components.values()].map((c) => c.service));
  const unknown = (pointer: string, what: string, candidates: string[]): void => {
    const hint = closest(what, candidates);
    problems.push({
      location: locate(positions, pointer, fallback),
      path: pointer,
      message: `unknown component "${what}"${hint ? `; did you mean "${hint}"?` : ''}`,
      rule: 'reference',
    });
  };
  const add = (entry: string, pointer: string): void => {
    if (entry.includes('/')) {
      if (components.has(entry)) out.add(entry);
      else unknown(pointer, entry, ids);
    } else if (services.has(entry)) {
      for (const c of components.values()) if (c.service === entry) out.add(c.id);
    } else unknown(pointer, entry, [...services]);
  };
  const own = Array.isArray(component.spec['dependsOn']) ? (component.spec['dependsOn'] as string[]) : [];
  own.forEach((e, i) => add(e, `/spec/dependsOn/${i}`));
  // A service-level dependency never makes a component depend on its own service.
  for (const e of serviceDependsOn) if (e !== component.service && !e.startsWith(`${component.service}/`)) add(e, '/metadata');
  for (const r of component.references) add(r.component, `/spec${r.path}/valueFrom/component`);
  out.delete(component.id);
  return { dependsOn: [...out].sort(), problems };
}

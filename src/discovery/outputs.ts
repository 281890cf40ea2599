/**
 * The outputs of each component kind, as its schema declares them: `x-deployer-outputs` (every
 * output of the kind, name -> one-line description) and, where a target makes only some of
 * them, `x-deployer-target-outputs` (target -> names). A `valueFrom` naming any other output
 * would pass validate and plan and fail in the middle of an apply, so discovery refuses it.
 */
import type { Reference, TargetName } from '../model/desired.js';
import { STACK_INFRA_KEY } from '../model/stack-infra.js';
import type { ReferenceFinding } from './references.js';
import { closest } from './suggest.js';
import type { SchemaSet } from './validate.js';

/** The outputs one kind declares. */
export interface DeclaredOutputs {
  /** Every output of the kind, on any target, in the schema's order. */
  names: string[];
  /** For a target that makes only some of them: which (absent: that target makes them all). */
  byTarget: Partial<Record<string, string[]>>;
}

const parsed = new WeakMap<object, DeclaredOutputs>();

/** The outputs a kind's schema declares; no names when it declares none (or the kind is unknown). */
export function declaredOutputs(schemas: SchemaSet, kind: string): DeclaredOutputs {
  const schema = schemas.schemaOf(kind);
  if (!schema) return { names: [], byTarget: {} };
  let d = parsed.get(schema);
  if (!d) {
    const outputs = schema['x-deployer-outputs'];
    const byTarget = schema['x-deployer-target-outputs'];
    d = {
      names: outputs !== null && typeof outputs === 'object' ? Object.keys(outputs) : [],
      byTarget: byTarget !== null && typeof byTarget === 'object' ? (byTarget as Record<string, string[]>) : {},
    };
    parsed.set(schema, d);
  }
  return d;
}

/**
 * Problems of the `valueFrom` outputs among `references`: an output the referenced component's
 * kind does not declare (with a "did you mean"), or one the stack's target does not make.
 * References to unknown components are left out: they are reported as such, once.
 *
 * @param kindOf the kind of each component of the stack, by id
 */
export function checkOutputs(
  references: Reference[],
  kindOf: ReadonlyMap<string, string>,
  schemas: SchemaSet,
  target: TargetName,
): ReferenceFinding[] {
  const problems: ReferenceFinding[] = [];
  for (const r of references) {
    // What discovery gives a component of the stack (its `_stack`) names outputs it knows are made.
    if (r.path.startsWith(`/${STACK_INFRA_KEY}/`)) continue;
    const kind = kindOf.get(r.component);
    // A malformed output (not a string) is the schema's to report.
    if (kind === undefined || typeof r.output !== 'string') continue;
    const declared = declaredOutputs(schemas, kind);
    const pointer = `/spec${r.path}/valueFrom/output`;
    if (!declared.names.includes(r.output)) {
      const hint = closest(r.output, declared.names);
      const list = declared.names.length > 0 ? `${kind} outputs: ${declared.names.join(', ')}` : `${kind} declares no outputs`;
      problems.push({
        pointer,
        message: `unknown output "${r.output}" of ${r.component} (${kind}); ${hint ? `did you mean "${hint}"? ` : ''}${list}`,
        rule: 'reference',
      });
      continue;
    }
    const made = declared.byTarget[target];
    if (made && !made.includes(r.output)) {
      problems.push({
        pointer,
        message: `the ${target} target does not make the output "${r.output}" of ${kind} (${r.component}); it makes ${made.join(', ')}`,
        rule: 'reference',
      });
    }
  }
  return problems;
}

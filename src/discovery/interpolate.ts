/**
 * Variables in values: `${var.name}` from the Stack's `spec.variables`, `--var-file` and
 * `--var` (highest); `${env.NAME}` only for the names the Stack lists in `spec.allowEnv`.
 * A value that is exactly one reference takes the variable's type (`port: ${var.port}` is a
 * number); otherwise references are spliced into the string. `$${` writes a literal `${`.
 */
import { escapePointer } from '../model/pointer.js';
import { closest } from './suggest.js';

export type VariableValue = string | number | boolean;

export interface VariableScope {
  vars: Record<string, VariableValue>;
  env: NodeJS.ProcessEnv;
  allowEnv: ReadonlySet<string>;
}

export interface InterpolationProblem {
  pointer: string;
  message: string;
  rule: string;
}

const REFERENCE = /\$\$\{|\$\{(var|env)\.([A-Za-z_][A-Za-z0-9_.-]*)\}|\$\{([^}]*)\}/g;
const WHOLE = /^\$\{(var|env)\.([A-Za-z_][A-Za-z0-9_.-]*)\}$/;

export function interpolate(value: unknown, scope: VariableScope): { value: unknown; problems: InterpolationProblem[] } {
  const problems: InterpolationProblem[] = [];
  const lookup = (ns: string, name: string, pointer: string): VariableValue | undefined => {
    if (ns === 'var') {
      if (name in scope.vars) return scope.vars[name];
      const hint = closest(name, Object.keys(scope.vars));
      problems.push({
        pointer,
        message: `unknown variable var.${name}${hint ? `; did you mean var.${hint}?` : ''} (define it in the Stack's spec.variables or pass --var ${name}=...)`,
        rule: 'variable',
      });
      return undefined;
    }
    if (!scope.allowEnv.has(name)) {
      problems.push({ pointer, message: `env.${name} is not allowed: list it in the Stack's spec.allowEnv`, rule: 'variable' });
      return undefined;
    }
    const v = scope.env[name];
    if (v === undefined) problems.push({ pointer, message: `env.${name} is not set in the environment`, rule: 'variable' });
    return v;
  };
  // Copy on write: a value without references is returned as it is, allocation-free.
  const path: string[] = [];
  const here = (): string => path.map((p) => `/${escapePointer(p)}`).join('');
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (!v.includes('${')) return v;
      const pointer = here();
      const whole = WHOLE.exec(v);
      if (whole) return lookup(whole[1]!, whole[2]!, pointer) ?? v;
      return v.replace(REFERENCE, (m, ns?: string, name?: string, other?: string) => {
        if (m === '$${') return '${';
        if (other !== undefined) {
          problems.push({
            pointer,
            message: `unknown reference \${${other}}: write \${var.NAME} or \${env.NAME}, or $\${ for a literal \${`,
            rule: 'variable',
          });
          return m;
        }
        const r = lookup(ns!, name!, pointer);
        return r === undefined ? m : String(r);
      });
    }
    if (v === null || typeof v !== 'object') return v;
    let copy: Record<string, unknown> | unknown[] | undefined;
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
    for (const [k, x] of entries) {
      path.push(k);
      const y = walk(x);
      path.pop();
      if (y !== x) {
        copy ??= Array.isArray(v) ? [...v] : { ...(v as Record<string, unknown>) };
        (copy as Record<string, unknown>)[k] = y;
      }
    }
    return copy ?? v;
  };
  return { value: walk(value), problems };
}

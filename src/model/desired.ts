import type { ValidationProblem } from '../errors.js';
import type { DeployedKind, ValueFrom } from './documents.js';

export type TargetName = 'local' | 'aws';
export type LockLevel = 'stack' | 'service' | 'component';

/** A reference inside a component's spec to another component's output. */
export interface Reference extends ValueFrom {
  /** JSON pointer of the referencing value inside the spec. */
  path: string;
}

/** Which document of which file something was defined in (positions are found on demand). */
export interface SourceRef {
  /** Absolute path. */
  file: string;
  /** The path shown in messages. */
  display: string;
  docIndex: number;
}

/** A difference drift detection leaves out: components by glob, and a property path in them (absent: all of it). */
export interface DriftIgnoreRule {
  component: string;
  path?: string;
}

/** One component as the configuration wants it, after overlays and defaults. */
export interface DesiredComponent {
  /** `<service>/<name>` */
  id: string;
  service: string;
  name: string;
  kind: DeployedKind;
  target: TargetName;
  spec: Record<string, unknown>;
  /** Explicit dependencies, as component ids (service-level entries expanded). */
  dependsOn: string[];
  /** Implicit dependencies through `valueFrom`. */
  references: Reference[];
  /** Directory of the defining file: relative paths in the spec resolve against it. */
  baseDir: string;
  source: SourceRef;
  /** sha256 of kind, target and spec (references hashed by their source). */
  specHash: string;
}

export interface DesiredService {
  name: string;
  version?: string;
  /** The team or person responsible for it (`spec.owner`), recorded with its deployments. */
  owner?: string;
  source: SourceRef;
}

/** The whole stack for one environment, ready to plan. */
export interface DesiredStack {
  name: string;
  environment: string;
  environments: string[];
  target: TargetName;
  lockLevel: LockLevel;
  /** What happens when a component fails: `spec.rollback` of the Stack (a component's own wins). */
  rollback: { mode: 'auto' | 'manual' | 'off'; scope: 'run' | 'failed' };
  /** `spec.circuitBreaker` of the Stack, with its defaults. */
  circuitBreaker: { enabled: boolean; failureThreshold: number; recoveryTimeoutMs: number; halfOpenCalls: number };
  /** `spec.drift` of the Stack: differences drift detection never reports (absent: none). */
  drift?: { ignore: DriftIgnoreRule[] };
  /** The stack directory (absolute). */
  dir: string;
  services: Map<string, DesiredService>;
  components: Map<string, DesiredComponent>;
  /** Advisory policy violations: reported, not fatal. */
  warnings: ValidationProblem[];
}

/** The Stack's policies when it does not set them (documented in docs/configuration.md). */
export const STACK_POLICY_DEFAULTS: Pick<DesiredStack, 'rollback' | 'circuitBreaker'> = {
  rollback: { mode: 'auto', scope: 'run' },
  circuitBreaker: { enabled: true, failureThreshold: 3, recoveryTimeoutMs: 300_000, halfOpenCalls: 1 },
};

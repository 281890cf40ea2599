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
  /** Its artifact (`spec.build`), once the pipeline has keyed it (pipeline/keys.ts): absent for a component that builds nothing. */
  build?: PlannedBuild;
}

/**
 * A component's build as the plan sees it: the cache key of its inputs now, and whether the
 * cache already holds that artifact (`digest` then) or what changed since its last build.
 */
export interface PlannedBuild {
  key: string;
  cache: 'hit' | 'miss';
  /** The artifact's digest (`sha256:...`), known on a hit (and after the build). */
  digest?: string;
  /** On a miss: the first input that differs from the component's last build ("src/app.js changed"), else why. */
  changed?: string;
}

/** One region of `spec.regions`: its name and the variables it sets. */
export interface RegionSpec {
  name: string;
  variables: Record<string, string | number | boolean>;
}

/** `spec.regionRollout` of the Stack, with its defaults. */
export interface RegionRollout {
  order: 'parallel' | 'sequential';
  canary?: string;
  maxSwitchLagMs: number;
  /** How long a region ready to switch waits for the others before it gives its switch up (parallel regions). */
  switchTimeoutMs: number;
}

/** `spec.pipeline` of the Stack, with its defaults (docs/pipeline.md). */
export interface PipelinePolicy {
  buildCache: 'shared' | 'environment';
  requireSignedArtifacts: boolean;
  /** Ed25519 public keys (PEM files, absolute) whose signatures are trusted. */
  trustedKeys: string[];
  /** Gates every component passes unless its own `spec.gates` says otherwise. */
  gates: Record<string, unknown>;
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
  /**
   * The rules of its Compliance and Security documents, as written (discovery/policies.ts reads
   * them): checked at validation, and again by the policy gate against each resolved component.
   */
  policyRules?: Array<{ name: string; type: string } & Record<string, unknown>>;
  /** `spec.pipeline` of the Stack: build cache, gates, signatures. */
  pipeline: PipelinePolicy;
  /** `spec.regions` of the Stack (as overlaid for the environment): absent, one region. */
  regions?: RegionSpec[];
  regionRollout?: RegionRollout;
  /** `spec.local` of the Stack: settings of the local target (absent: its defaults). */
  local?: { portRange: [number, number] };
  /** The region this desired stack is for, when the Stack lists regions (its `environment` is then `<env>/<region>`). */
  region?: string;
  /** The stack directory (absolute). */
  dir: string;
  services: Map<string, DesiredService>;
  components: Map<string, DesiredComponent>;
  /** Advisory policy violations: reported, not fatal. */
  warnings: ValidationProblem[];
}

/** The Stack's policies when it does not set them (documented in docs/configuration.md). */
export const STACK_POLICY_DEFAULTS: Pick<DesiredStack, 'rollback' | 'circuitBreaker' | 'pipeline'> = {
  pipeline: { buildCache: 'shared', requireSignedArtifacts: false, trustedKeys: [], gates: {} },
  rollback: { mode: 'auto', scope: 'run' },
  circuitBreaker: { enabled: true, failureThreshold: 3, recoveryTimeoutMs: 300_000, halfOpenCalls: 1 },
};

import type { DeployedKind } from './documents.js';

export type PlanActionType = 'create' | 'update' | 'replace' | 'delete' | 'no-op';

export interface PlanAction {
  id: string;
  action: PlanActionType;
  kind: DeployedKind;
  /** Why this action: "new component", "spec changed: /port", "removed from configuration". */
  reason: string;
  /** JSON pointers of changed spec values (update/replace). */
  changes: string[];
  /** For reading only: the index in `Plan.waves` of the barrier wave it would run in (null: no-op). */
  wave: number | null;
  /** Its build: a cache hit (the artifact's digest) or a miss and what changed. Absent: it builds nothing. */
  build?: { cache: 'hit' | 'miss'; key: string; digest?: string; changed?: string };
  /** `deployer plan`: what its release gates would say now (the apply checks them again just before it deploys). */
  gates?: Array<{ gate: string; status: 'passed' | 'refused' | 'skipped'; summary: string }>;
}

export interface PlanSummary {
  create: number;
  update: number;
  replace: number;
  delete: number;
  noop: number;
}

/** The difference between the configuration and the stored state. */
export interface Plan {
  stack: string;
  environment: string;
  /** State identity the plan was computed against (a saved plan must still match). */
  lineage: string | null;
  serial: number;
  actions: PlanAction[];
  /** Barrier waves of the changing components (execution does not wait for whole waves). */
  waves: string[][];
  summary: PlanSummary;
}

/** `plan --out plan.json`: a plan with what it was made from, for `apply plan.json`. */
export interface SavedPlan {
  format: 'deployer-plan/v1';
  createdAt: string;
  /** sha256 of the configuration the plan was made from (every component's spec, target, dependencies). */
  configHash: string;
  plan: Plan;
}

/** `plan --out` of a Stack that lists regions: every region's saved plan, applied together by `apply <file>`. */
export interface SavedRegionsPlan {
  format: 'deployer-regions-plan/v1';
  createdAt: string;
  regions: Array<{ region: string; saved: SavedPlan }>;
}

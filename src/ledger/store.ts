/** Deployment strategies as the ledger records them. */
export type DeploymentType = 'blue-green' | 'canary' | 'rolling' | 'big-bang';
export type DeploymentStatus = 'in-progress' | 'success' | 'failed' | 'rolled-back';

/** One service deployed in one run (the run's id is `parentId`). */
export interface DeploymentEvent {
  id: string;
  stack: string;
  service: string;
  version: string;
  environment: string;
  type: DeploymentType;
  started: string;
  completed: string | null;
  status: DeploymentStatus;
  /** `user@host` or the CI identity. */
  initiator: string;
  metadata: Record<string, unknown>;
  parentId: string | null;
}

export interface RollbackEvent {
  id: string;
  stack: string;
  service: string;
  environment: string;
  fromVersion: string;
  toVersion: string;
  reason: string;
  at: string;
}

export interface DeploymentFilter {
  stack?: string;
  service?: string;
  environment?: string;
  status?: DeploymentStatus;
  /** ISO time: only deployments started at or after it. */
  since?: string;
  limit?: number;
}

/**
 * The ledger of deployments and rollbacks. Writes are idempotent by `id` (recording the same
 * event twice, e.g. once in-progress and once completed, keeps one row with the last values).
 */
export interface LedgerStore {
  recordDeployment(event: DeploymentEvent): void;
  recordRollback(event: RollbackEvent): void;
  listDeployments(filter?: DeploymentFilter): DeploymentEvent[];
  listRollbacks(filter?: Omit<DeploymentFilter, 'status'>): RollbackEvent[];
  close(): void;
}

/**
 * What a run writes to the ledger: one deployment event per service it changes (in progress,
 * then success, failed or rolled-back) and one rollback event per service it rolls back.
 */
import { randomUUID } from 'node:crypto';
import type { DeploymentEvent, DeploymentType, LedgerStore } from '../ledger/index.js';
import { serviceDependencies } from '../graph/index.js';
import { hashOf } from '../model/hash.js';
import type { DesiredStack } from '../model/desired.js';
import type { Plan } from '../model/plan.js';
import { NOT_DONE, type ComponentReport } from '../executor/events.js';

export function serviceOf(componentId: string): string {
  return componentId.split('/')[0]!;
}

/**
 * A service's version: the one its Service names; else the digest of the artifact it builds
 * (`sha256:...`; several artifacts: a digest of their digests); else a short hash of its
 * components' specs — in sorted order, so that the configuration (discovery order) and the
 * state (write order) give the same version, and a rollback's from/to match deployment rows.
 */
export function versionOf(named: string | undefined, specHashes: string[], digests: string[] = []): string {
  if (named !== undefined) return named;
  if (digests.length === 1) return digests[0]!;
  if (digests.length > 1) return `sha256:${hashOf([...digests].sort())}`;
  return specHashes.length === 0 ? '(none)' : hashOf([...specHashes].sort()).slice(0, 12);
}

/** The version a service is deployed at by this configuration. */
export function desiredVersion(desired: DesiredStack, service: string): string {
  const components = [...desired.components.values()].filter((c) => c.service === service);
  return versionOf(
    desired.services.get(service)?.version,
    components.map((c) => c.specHash),
    components.flatMap((c) => (c.build?.digest ? [c.build.digest] : [])),
  );
}

/**
 * The version of each service `plan` changes: what its deployment event records (a destroy's
 * with ` (destroyed)` after it). The plan event carries them, for whoever traces the run.
 */
export function planVersions(desired: DesiredStack, plan: Plan): Record<string, string> {
  const services = new Set(plan.actions.filter((a) => a.action !== 'no-op').map((a) => serviceOf(a.id)));
  return Object.fromEntries([...services].sort().map((service) => [service, desiredVersion(desired, service)]));
}

/** One in-progress deployment event per service this run changes. */
export function startDeployments(
  desired: DesiredStack,
  plan: Plan,
  runId: string,
  initiator: string,
  operation: string,
  metadata: Record<string, unknown>,
): DeploymentEvent[] {
  const services = [...new Set(plan.actions.filter((a) => a.action !== 'no-op').map((a) => serviceOf(a.id)))].sort();
  const now = new Date().toISOString();
  const dependsOn = serviceDependencies(desired.components.values());
  return services.map((service) => {
    const components = [...desired.components.values()].filter((c) => c.service === service);
    const strategy = components.find((c) => c.kind === 'MicroService')?.spec['strategy'] as { type?: DeploymentType } | undefined;
    const type: DeploymentType = strategy?.type ?? (components.some((c) => c.kind === 'MicroService') ? 'rolling' : 'big-bang');
    const version = desiredVersion(desired, service);
    return {
      id: randomUUID(),
      stack: desired.name,
      service,
      version: operation === 'destroy' ? `${version} (destroyed)` : version,
      environment: desired.environment,
      type,
      started: now,
      completed: null,
      status: 'in-progress',
      initiator,
      metadata: {
        operation,
        ...metadata,
        // The services it depends on, as the stack says now: `ledger visualize` draws them without the stack.
        depends_on: dependsOn.get(service) ?? [],
        ...(desired.services.get(service)?.owner ? { owner: desired.services.get(service)!.owner } : {}),
        actions: Object.fromEntries(
          plan.actions.filter((a) => serviceOf(a.id) === service && a.action !== 'no-op').map((a) => [a.id, a.action]),
        ),
      },
      parentId: runId,
      ...(operation === 'destroy' ? { operation: 'destroy' as const } : {}),
    };
  });
}

/** Completes the deployment events: success, failed, or rolled-back when a rollback undid the service; returns them finished. */
export async function finishDeployments(
  ledger: LedgerStore,
  events: DeploymentEvent[],
  reports: ComponentReport[],
  rolledBack: Set<string>,
): Promise<DeploymentEvent[]> {
  const completed = new Date().toISOString();
  const finished: DeploymentEvent[] = [];
  for (const d of events) {
    const mine = reports.filter((r) => serviceOf(r.id) === d.service);
    const ok = mine.every((r) => !NOT_DONE.has(r.result));
    // A service the run's rollback undid was rolled back, even when its own components had succeeded.
    const status = rolledBack.has(d.service) ? 'rolled-back' : ok ? 'success' : 'failed';
    const done: DeploymentEvent = {
      ...d,
      completed,
      status,
      metadata: {
        ...d.metadata,
        results: Object.fromEntries(mine.map((r) => [r.id, r.result])),
        // The release stage: what each component deployed and what its gates said.
        ...(mine.some((r) => r.artifact)
          ? { artifacts: Object.fromEntries(mine.flatMap((r) => (r.artifact ? [[r.id, r.artifact]] : []))) }
          : {}),
        ...(mine.some((r) => r.gates)
          ? {
              gates: Object.fromEntries(
                mine.flatMap((r) =>
                  r.gates ? [[r.id, r.gates.map((g) => ({ gate: g.gate, status: g.status, summary: g.summary }))]] : [],
                ),
              ),
            }
          : {}),
      },
    };
    await ledger.recordDeployment(done);
    finished.push(done);
  }
  return finished;
}

/** One rollback event per service whose components a rollback changed, recorded one after another. */
export async function recordRollbacks(
  ledger: LedgerStore,
  o: {
    stack: string;
    environment: string;
    reports: ComponentReport[];
    reason: string;
    fromVersion: (service: string) => string | Promise<string>;
    toVersion: (service: string) => string | Promise<string>;
    /** The deployment the rollback undid, when there is one. */
    undid: (service: string) => string | undefined | Promise<string | undefined>;
  },
): Promise<Set<string>> {
  const services = [
    ...new Set(o.reports.filter((r) => r.result !== 'unchanged' && !NOT_DONE.has(r.result)).map((r) => serviceOf(r.id))),
  ].sort();
  const at = new Date().toISOString();
  for (const service of services) {
    const fromVersion = await o.fromVersion(service);
    const toVersion = await o.toVersion(service);
    const deploymentId = await o.undid(service);
    await ledger.recordRollback({
      id: randomUUID(),
      stack: o.stack,
      service,
      environment: o.environment,
      fromVersion,
      toVersion,
      reason: o.reason,
      at,
      ...(deploymentId ? { deploymentId } : {}),
    });
  }
  return new Set(services);
}

/** The newest deployment the ledger records of a service (the one a `deployer rollback` undoes). */
export async function lastDeployment(
  ledger: LedgerStore,
  stack: string,
  environment: string,
  service: string,
): Promise<string | undefined> {
  const [deployed] = await ledger.listDeployments({ stack, environment, service, limit: 1 });
  return deployed?.id;
}

/**
 * The version the ledger last says a service is at: its newest deployment (whatever became of
 * it) or rollback, whichever came last; undefined when the ledger knows nothing of it.
 */
export async function versionInLedger(
  ledger: LedgerStore,
  stack: string,
  environment: string,
  service: string,
): Promise<string | undefined> {
  const [deployed] = await ledger.listDeployments({ stack, environment, service, limit: 1 });
  const [rolled] = await ledger.listRollbacks({ stack, environment, service, limit: 1 });
  if (rolled && (!deployed || rolled.at >= deployed.started)) return rolled.toVersion;
  return deployed?.version.replace(/ \(destroyed\)$/, '');
}

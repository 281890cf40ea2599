/**
 * `deployer services` (seed 003's service registry): every deployed component that runs
 * something, as its target sees it now. Reads the state and asks the target; takes no lock and
 * changes nothing.
 */
import type { Settings } from '../config/index.js';
import { InvalidInputError } from '../errors.js';
import { openStateStore } from '../state/index.js';
import { targetFor, type DeployedRef, type ServiceStatus } from '../targets/index.js';
import { loadStack } from './load-stack.js';

export interface ServicesReport {
  stack: string;
  environment: string;
  takenAt: string;
  services: ServiceStatus[];
}

export async function listServices(settings: Settings): Promise<ServicesReport> {
  const { desired } = await loadStack(settings);
  const target = targetFor(desired.target);
  if (!target.inspect)
    throw new InvalidInputError(`the ${desired.target} target does not report what runs (deployer services is the local target's)`);
  const state = await openStateStore(settings.stateUrl, settings.dir).read(desired.name, desired.environment);
  const deployed: DeployedRef[] = Object.entries(state?.components ?? {})
    .filter(([, c]) => c.status === 'deployed' || c.status === 'failed')
    .map(([id, c]) => {
      const [service, name] = id.split('/') as [string, string];
      return { id, service, name, kind: c.kind, outputs: c.outputs };
    });
  const services = await target.inspect(deployed, { stack: desired.name, environment: desired.environment, stackDir: desired.dir });
  return {
    stack: desired.name,
    environment: desired.environment,
    takenAt: new Date().toISOString(),
    services: services.sort((a, b) => a.id.localeCompare(b.id)),
  };
}

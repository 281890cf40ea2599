/**
 * The service registry of the local target (seed 003): `.deployer/local/<stack>/<env>/registry.json`
 * names every deployed component's endpoints, written after each run from the state it left,
 * so another program (or a person) finds a service by name without knowing its port. Each
 * entry also names the variable deployer sets in the processes that depend on it.
 */
import path from 'node:path';
import type { StackState } from '../../model/state.js';
import { writeFileAtomic } from '../../util/atomic-write.js';

export interface RegistryEntry {
  kind: string;
  url?: string;
  port?: number;
  /** The variable a dependent process finds this service's URL in. */
  variable?: string;
}

export interface Registry {
  stack: string;
  environment: string;
  updatedAt: string;
  services: Record<string, RegistryEntry>;
}

/** DEPLOYER_SERVICE_<SERVICE>_<COMPONENT>_URL of a component id `service/component`. */
export function discoveryVariable(id: string): string {
  return `DEPLOYER_SERVICE_${id.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_URL`;
}

export function registryFile(root: string, stack: string, environment: string): string {
  return path.join(root, stack, environment, 'registry.json');
}

export function registryOf(state: StackState, now = new Date()): Registry {
  const services: Record<string, RegistryEntry> = {};
  for (const [id, c] of Object.entries(state.components).sort(([a], [b]) => a.localeCompare(b))) {
    if (c.status !== 'deployed') continue;
    const url = typeof c.outputs['url'] === 'string' ? c.outputs['url'] : undefined;
    const port = typeof c.outputs['port'] === 'number' ? c.outputs['port'] : undefined;
    services[id] = {
      kind: c.kind,
      ...(url !== undefined ? { url, variable: discoveryVariable(id) } : {}),
      ...(port !== undefined ? { port } : {}),
    };
  }
  return { stack: state.stack, environment: state.environment, updatedAt: now.toISOString(), services };
}

export async function writeRegistry(file: string, registry: Registry): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(registry, null, 2) + '\n');
}

/** A DesiredStack made in memory, for tests of the pure parts (plan, saved plans, rollback). */
import { STACK_POLICY_DEFAULTS, type DesiredComponent, type DesiredStack } from '../../src/model/desired.js';

/** Stack `shop`, environment `dev`, target local, stack lock, the default policies; `over` replaces any of it. */
export function desiredStack(components: DesiredComponent[], over: Partial<DesiredStack> = {}): DesiredStack {
  return {
    name: 'shop',
    environment: 'dev',
    environments: ['dev'],
    ...STACK_POLICY_DEFAULTS,
    target: 'local',
    lockLevel: 'stack',
    dir: '/stack',
    services: new Map(),
    components: new Map(components.map((c) => [c.id, c])),
    warnings: [],
    ...over,
  };
}

/** `deployer logs`: where a deployed component's processes write their output (read-only, no lock). */
import type { Settings } from '../config/index.js';
import { InvalidInputError } from '../errors.js';
import { PROCESS_KINDS } from '../model/stack-infra.js';
import { openStateStore } from '../state/index.js';
import { targetFor } from '../targets/index.js';
import { loadStack } from './load-stack.js';

export async function logFileOf(settings: Settings, id: string): Promise<string> {
  const { desired } = await loadStack(settings);
  const target = targetFor(desired.target);
  const state = await openStateStore(settings.stateUrl, settings.dir).read(desired.name, desired.environment);
  const running = Object.entries(state?.components ?? {})
    .filter(([, c]) => PROCESS_KINDS.has(c.kind))
    .map(([x]) => x)
    .sort();
  const recorded = state?.components[id];
  if (!recorded)
    throw new InvalidInputError(`${id} is not deployed in ${desired.name}/${desired.environment}`, [
      `services that run processes: ${running.join(', ') || '(none)'}`,
    ]);
  const [service, name] = id.split('/') as [string, string];
  const file = target.logFile?.(
    { service, name, kind: recorded.kind },
    { stack: desired.name, environment: desired.environment, stackDir: desired.dir },
  );
  if (!file)
    throw new InvalidInputError(`${id} is ${recorded.kind === 'S3' ? 'an' : 'a'} ${recorded.kind}: it runs no process that writes output`);
  return file;
}

/**
 * What the local target checks before a run deploys anything: every port the changing
 * MicroServices will listen on is free, or is already theirs (their own supervisor's proxy
 * holds it); two of them never ask for the same one. A port `auto` allocated earlier counts as
 * fixed: it is the one recorded. And the cpu and memory limits they ask for are tried, so that
 * a limit this machine cannot apply is said before the run, with why.
 */
import path from 'node:path';
import type { DesiredComponent } from '../../model/desired.js';
import { limitsFor, resourceRequestOf } from './limits.js';
import { liveSupervisor } from './microservice.js';
import { describeHolder, listenerOn } from './ports.js';

/** The port the component will listen on, when it is known before it deploys. */
function portOf(component: DesiredComponent, recorded: Record<string, unknown> | undefined): number | undefined {
  const port = component.spec['port'];
  if (typeof port === 'number') return port;
  return port === 'auto' && typeof recorded?.['port'] === 'number' ? recorded['port'] : undefined;
}

/** Why each port cannot be had, one line per conflict (empty: all can). */
export async function portProblems(
  changing: ReadonlyArray<{ component: DesiredComponent; recorded?: Record<string, unknown> }>,
  runtimeDirOf: (c: DesiredComponent) => string,
  /** The directory of this stack's and environment's local services (their supervisors run with a path below it). */
  stackRoot?: string,
): Promise<string[]> {
  const problems: string[] = [];
  const askedBy = new Map<number, string>();
  for (const { component: c, recorded } of changing) {
    if (c.kind !== 'MicroService') continue;
    const port = portOf(c, recorded);
    if (port === undefined) continue;
    const other = askedBy.get(port);
    if (other !== undefined) {
      problems.push(`${c.id} and ${other} both ask for port ${port}`);
      continue;
    }
    askedBy.set(port, c.id);
    const holder = await listenerOn(port);
    if (holder === undefined) continue;
    const own = await liveSupervisor(runtimeDirOf(c));
    // Its own supervisor serves it now (an update); one this user cannot see may be it too.
    if (own !== undefined && (holder.pid === own || holder.pid === undefined)) continue;
    // Another component of this stack and environment: the run moves it or deletes it (a rename keeping its port).
    if (stackRoot !== undefined && holder.command?.includes(`${stackRoot}${path.sep}`)) continue;
    problems.push(`${c.id}: ${describeHolder(port, holder)}`);
  }
  return problems;
}

/** For each component asking for cpu or memory, each limit this machine cannot apply as asked, and why. */
export function limitWarnings(services: DesiredComponent[]): string[] {
  return services.flatMap((c, i) => {
    const asked = resourceRequestOf(c.spec);
    if (!asked) return [];
    // Made and removed at once: the same attempt the supervisor makes for each process.
    const trial = limitsFor(`deployer/preflight-${process.pid}-${i}`, asked);
    trial.release();
    return trial.applied.warnings.map((w) => `${c.id}: ${w}`);
  });
}

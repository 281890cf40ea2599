/**
 * Loading a stack for any command: discovery, the target's own checks, and the graph — all of
 * it before anything is locked or written, so invalid input leaves no trace.
 */
import { discover } from '../discovery/index.js';
import { ValidationError } from '../errors.js';
import { buildGraph, type DependencyGraph } from '../graph/index.js';
import type { DesiredStack } from '../model/desired.js';
import { targetFor } from '../targets/index.js';

export interface LoadedStack {
  desired: DesiredStack;
  graph: DependencyGraph;
}

export async function loadStack(dir: string, environment: string | undefined): Promise<LoadedStack> {
  const desired = await discover({ dir, ...(environment === undefined ? {} : { environment }) });
  const target = targetFor(desired.target);
  const problems = [...desired.components.values()].flatMap((c) => target.check(c));
  if (problems.length > 0) throw new ValidationError(problems);
  const graph = buildGraph(desired.components.values(), (id) => desired.components.get(id));
  return { desired, graph };
}

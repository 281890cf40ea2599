/**
 * Loading a stack for any command: discovery (which builds the graph) and the target's own
 * checks — all of it before anything is locked or written, so invalid input leaves no trace.
 */
import type { Settings } from '../config/index.js';
import { discoverStack, sortProblems } from '../discovery/index.js';
import { Locator } from '../discovery/locate.js';
import { ValidationError } from '../errors.js';
import type { DependencyGraph } from '../graph/index.js';
import type { DesiredStack } from '../model/desired.js';
import { targetFor } from '../targets/index.js';

export interface LoadedStack {
  desired: DesiredStack;
  graph: DependencyGraph;
}

/**
 * Every command that reads a stack directory comes through here, so `--stack` is checked once
 * for all of them: a directory holding another stack is refused before anything else happens.
 */
export async function loadStack(
  settings: Pick<Settings, 'dir' | 'sourceDir' | 'environment' | 'variables' | 'varFiles' | 'region'> & { stack?: string | undefined },
): Promise<LoadedStack> {
  const { desired, graph } = await discoverStack({
    dir: settings.sourceDir ?? settings.dir,
    ...(settings.environment === undefined ? {} : { environment: settings.environment }),
    variables: settings.variables,
    varFiles: settings.varFiles,
    ...(settings.stack === undefined ? {} : { expectedStack: settings.stack }),
    ...(settings.region === undefined ? {} : { region: settings.region }),
  });
  const target = targetFor(desired.target);
  const locator = new Locator();
  const where = (id: string, pointer: string) => {
    const s = desired.components.get(id)!.source;
    return locator.where(s.file, s.display, s.docIndex, pointer);
  };
  const problems = [...desired.components.values()].flatMap((c) =>
    target.check(c).map((f) => ({
      location: where(c.id, f.pointer),
      document: `${c.kind}/${c.name}`,
      path: f.pointer,
      message: f.message,
      rule: f.rule,
    })),
  );
  if (problems.length > 0) throw new ValidationError(sortProblems(problems));
  return { desired, graph };
}

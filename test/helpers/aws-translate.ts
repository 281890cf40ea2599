/**
 * The aws target's translation of a whole stack under Pulumi's runtime mocks (src/targets/aws/
 * mocks.ts): each component in dependency order, its references resolved from the mocked
 * outputs of those it depends on, as the executor resolves them from real ones. And the
 * readable form of a component's resources that golden files keep (test/fixtures/aws-golden/).
 */
import { discoverStack } from '../../src/discovery/index.js';
import type { DesiredStack } from '../../src/model/desired.js';
import { resolveSpec } from '../../src/plan/resolve.js';
import { AwsTarget } from '../../src/targets/aws/index.js';
import { runWithMocks, type MockedRun } from '../../src/targets/aws/mocks.js';
import { yamlLib } from '../../src/util/yaml-lib.js';

export interface TranslatedStack {
  desired: DesiredStack;
  /** Each component's mocked run, by id. */
  runs: Map<string, MockedRun>;
}

/**
 * Discovers the stack in `dir` for `environment` and translates every component of it, but
 * for those `given`, whose outputs are taken as given (a component of a kind another test covers).
 */
export async function translateStack(
  dir: string,
  environment: string,
  given: Record<string, Record<string, unknown>> = {},
): Promise<TranslatedStack> {
  const { desired, graph } = await discoverStack({ dir, environment, cacheDir: false });
  const target = new AwsTarget();
  const runs = new Map<string, MockedRun>();
  for (const id of graph.order) {
    if (given[id]) {
      runs.set(id, { resources: [], outputs: given[id] });
      continue;
    }
    const c = desired.components.get(id)!;
    const resolved = resolveSpec(c.spec, (dep) => runs.get(dep)?.outputs);
    if (resolved.missing.length > 0)
      throw new Error(`${id}: ${resolved.missing.map((m) => `${m.component} made no output ${m.output}`).join('; ')}`);
    const program = target.program(c, resolved.spec, { stack: desired.name, environment, stackDir: desired.dir });
    runs.set(
      id,
      await runWithMocks(program as () => Promise<Record<string, unknown>>, String((resolved.spec['_stack'] as { region: string }).region)),
    );
  }
  return { desired, runs };
}

/**
 * A component's resources as a golden file keeps them: a header, its outputs, then each
 * resource (sorted by type and name) with its parent, what it depends on, whether it is
 * protected, what changes Pulumi ignores, and its inputs.
 */
export function renderRun(title: string, run: MockedRun): string {
  const resources = [...run.resources]
    .sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name))
    .map((r) => ({
      [`${r.type} ${r.name}`]: {
        ...(r.parent ? { parent: r.parent } : {}),
        ...(r.dependsOn.length ? { dependsOn: r.dependsOn } : {}),
        ...(r.protect ? { protect: true } : {}),
        ...(r.ignoreChanges ? { ignoreChanges: r.ignoreChanges } : {}),
        inputs: r.inputs,
      },
    }));
  const body = yamlLib().stringify({ outputs: run.outputs, resources }, { sortMapEntries: true, lineWidth: 0 });
  return `# ${title}: ${run.resources.length} resources\n${body}`;
}

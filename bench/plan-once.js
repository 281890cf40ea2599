// One discovery + validation + graph + plan of a stack directory, in this process: prints
// {ms, maxRssMb, components, parsed} as JSON. Usage: node bench/plan-once.js <dir> <env>
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const dist = (p) => pathToFileURL(path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'dist', p)).href;
const [dir, env] = process.argv.slice(2);
const t0 = performance.now();
const { loadStack } = await import(dist('workflows/load-stack.js'));
const { computePlan } = await import(dist('plan/index.js'));
const { openStateStore } = await import(dist('state/index.js'));
const { desired, graph } = await loadStack({ dir, environment: env, variables: {}, varFiles: [] });
const plan = computePlan(desired, await openStateStore('file://.deployer', dir).read(desired.name, desired.environment), graph);
const ms = performance.now() - t0;
process.stdout.write(
  JSON.stringify({
    ms: Math.round(ms),
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    components: desired.components.size,
    actions: plan.actions.length,
  }) + '\n',
);

// Scheduling benchmark: synthetic DAGs through the real executor (execute(): scheduler, state
// writes, reports), where each component is a `sleep` test resource — the engine sleeps for the
// component's duration instead of running Pulumi, so what is measured is the scheduling.
// Prints makespan / lower bound for graph scheduling and for barrier waves, where the bound is
// max(critical path, total work / concurrency): no schedule can beat it.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { seeded } from '../test/helpers/seeded.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = (f) => import(pathToFileURL(path.join(root, 'dist', f)).href);

/** A seeded generator (mulberry32), so every run measures the same DAGs. */
const rng = seeded;

/** n components in 10 services; each depends on 0-3 random earlier ones; durations minMs..maxMs. */
function randomDag(n, seed, minMs, maxMs) {
  const r = rng(seed);
  const nodes = [];
  for (let i = 0; i < n; i++) {
    const deps = new Set();
    const k = i === 0 ? 0 : Math.floor(r() * 4);
    for (let j = 0; j < k; j++) deps.add(Math.floor(r() * i));
    nodes.push({ id: `s${i % 10}/c${String(i).padStart(3, '0')}`, ms: Math.round(minMs + r() * (maxMs - minMs)), deps: [...deps] });
  }
  for (const node of nodes) node.deps = node.deps.map((j) => nodes[j].id);
  return nodes;
}

function lowerBound(nodes, concurrency) {
  const finish = new Map();
  for (const node of nodes) finish.set(node.id, node.ms + Math.max(0, ...node.deps.map((d) => finish.get(d))));
  const criticalPath = Math.max(...finish.values());
  const work = nodes.reduce((t, x) => t + x.ms, 0);
  return { criticalPath, work, bound: Math.max(criticalPath, work / concurrency) };
}

/** One run; with `history`, the state holds every component with the duration its last run took. */
async function runOnce(nodes, mode, concurrency, history = false) {
  const { execute } = await load('executor/execute.js');
  const { exclusiveWriter } = await load('executor/state-writer.js');
  const { buildGraph } = await load('graph/index.js');
  const { computePlan } = await load('plan/index.js');
  const { MemoryStateStore } = await load('state/memory.js');
  const { emptyState } = await load('state/index.js');
  const { STACK_POLICY_DEFAULTS } = await load('model/desired.js');

  const components = new Map(
    nodes.map((node) => {
      const [service, name] = node.id.split('/');
      return [
        node.id,
        {
          id: node.id,
          service,
          name,
          kind: 'S3',
          target: 'local',
          spec: { sleepMs: node.ms },
          dependsOn: node.deps,
          references: [],
          baseDir: root,
          source: { file: '', display: node.id, docIndex: 0 },
          specHash: `${node.id}:${node.ms}`,
        },
      ];
    }),
  );
  const desired = {
    name: 'bench',
    environment: 'dev',
    environments: ['dev'],
    target: 'local',
    lockLevel: 'stack',
    dir: root,
    services: new Map(),
    components,
    warnings: [],
    ...STACK_POLICY_DEFAULTS,
  };
  const graph = buildGraph(nodes.map((node) => ({ id: node.id, dependsOn: node.deps })));
  const base = emptyState('bench', 'dev');
  if (history) {
    for (const node of nodes) {
      base.components[node.id] = {
        kind: 'S3',
        target: 'local',
        specHash: 'earlier',
        inputsHash: 'earlier',
        spec: {},
        outputs: {},
        dependsOn: node.deps,
        pulumiStack: node.id,
        status: 'deployed',
        deploymentId: 'earlier',
        updatedAt: '',
        lastDurationMs: node.ms,
      };
    }
  }
  const plan = computePlan(desired, history ? base : undefined, graph);
  const sleepTarget = { name: 'local', canApply: true, check: () => [], engineEnv: () => ({}), program: (_c, spec) => () => spec.sleepMs };
  const sleepEngine = {
    operations: 0,
    async up(o) {
      this.operations++;
      await new Promise((r) => setTimeout(r, o.program()));
      return { outputs: {}, secretOutputs: [], changes: { create: 1 } };
    },
  };
  const t0 = performance.now();
  const result = await execute({
    plan,
    desired,
    graph,
    state: base,
    writer: exclusiveWriter(new MemoryStateStore(), base),
    engine: async () => sleepEngine,
    target: sleepTarget,
    runId: 'bench',
    concurrency,
    scheduling: mode,
    failFast: false,
    listener: () => undefined,
  });
  const makespan = performance.now() - t0;
  if (result.reports.some((r) => r.result !== (history ? 'updated' : 'created'))) throw new Error('a sleep resource did not succeed');
  return makespan;
}

export async function benchScheduling() {
  const n = Number(process.env.BENCH_DAG_SIZE ?? 200);
  const concurrency = 8;
  const seeds = [1, 2, 3, 4, 5];
  const rows = [];
  for (const seed of seeds) {
    const nodes = randomDag(n, seed, 50, 500);
    const { criticalPath, work, bound } = lowerBound(nodes, concurrency);
    const first = await runOnce(nodes, 'graph', concurrency);
    const graph = await runOnce(nodes, 'graph', concurrency, true);
    const waves = await runOnce(nodes, 'waves', concurrency, true);
    rows.push({
      seed,
      components: n,
      criticalPath_ms: Math.round(criticalPath),
      workOverConcurrency_ms: Math.round(work / concurrency),
      graphFirstRun_ms: Math.round(first),
      graph_ms: Math.round(graph),
      waves_ms: Math.round(waves),
      graphFirstRunRatio: +(first / bound).toFixed(3),
      graphRatio: +(graph / bound).toFixed(3),
      wavesRatio: +(waves / bound).toFixed(3),
    });
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return {
    note: `${n} components per DAG, 0-3 random dependencies each, sleep 50-500 ms, --concurrency ${concurrency}; ratio = makespan / max(critical path, work / concurrency). graphFirstRun: no durations known (critical path by step count); graph and waves: a rerun, durations of the last run recorded in the state`,
    graphFirstRunRatioMedian: median(rows.map((r) => r.graphFirstRunRatio)),
    graphRatioMedian: median(rows.map((r) => r.graphRatio)),
    wavesRatioMedian: median(rows.map((r) => r.wavesRatio)),
    dags: rows,
  };
}

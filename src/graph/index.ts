/**
 * graph/: the dependency DAG of a stack's components (explicit `dependsOn` and implicit
 * `valueFrom` edges), cycle detection that names the cycle, topological order and waves.
 */
import { Graph, alg } from '@dagrejs/graphlib';
import { ValidationError, type ValidationProblem } from '../errors.js';
import type { DesiredComponent } from '../model/desired.js';

export type EdgeKind = 'explicit' | 'implicit';

/** A dependency graph: an edge `a -> b` means a must finish before b starts. */
export interface DependencyGraph {
  readonly nodes: readonly string[];
  /** What `id` needs first. */
  dependenciesOf(id: string): string[];
  /** What needs `id` first. */
  dependentsOf(id: string): string[];
  edges(): Array<{ from: string; to: string; kind: EdgeKind }>;
  /** A topological order (dependencies first; ties broken by id for stable output). */
  readonly order: readonly string[];
  /** Barrier layers: wave n holds the nodes whose longest dependency chain has length n. */
  readonly waves: readonly string[][];
}

interface Node {
  id: string;
  dependsOn: readonly string[];
}

/** Builds the graph of `nodes`; throws a ValidationError naming the cycle if there is one. */
export function buildGraph(nodes: Iterable<Node>, describe?: (id: string) => DesiredComponent | undefined): DependencyGraph {
  const g = new Graph({ directed: true });
  const list = [...nodes];
  for (const n of list) g.setNode(n.id);
  for (const n of list) {
    const component = describe?.(n.id);
    const implicit = new Set(component?.references.map((r) => r.component) ?? []);
    for (const dep of n.dependsOn) {
      if (!g.hasNode(dep)) continue; // a dependency outside this set (already deployed, or filtered)
      g.setEdge(dep, n.id, implicit.has(dep) ? 'implicit' : 'explicit');
    }
  }
  const cycle = findCycle(g);
  if (cycle) {
    const first = describe?.(cycle[0]!);
    const problem: ValidationProblem = {
      location: first?.source ?? { file: '-', line: 1, col: 1 },
      ...(first ? { document: `${first.kind}/${first.name}` } : {}),
      path: '/spec/dependsOn',
      message: `dependency cycle: ${[...cycle, cycle[0]].join(' -> ')}`,
      rule: 'cycle',
    };
    throw new ValidationError([problem]);
  }
  const order = stableTopoOrder(g);
  const level = new Map<string, number>();
  for (const id of order) {
    const deps = g.predecessors(id) ?? [];
    level.set(id, deps.length === 0 ? 0 : 1 + Math.max(...deps.map((d) => level.get(d)!)));
  }
  const waves: string[][] = [];
  for (const id of order) {
    const l = level.get(id)!;
    (waves[l] ??= []).push(id);
  }
  for (const w of waves) w.sort();
  return {
    nodes: list.map((n) => n.id),
    dependenciesOf: (id) => [...(g.predecessors(id) ?? [])].sort(),
    dependentsOf: (id) => [...(g.successors(id) ?? [])].sort(),
    edges: () => g.edges().map((e) => ({ from: e.v, to: e.w, kind: g.edge(e) as EdgeKind })),
    order,
    waves,
  };
}

/** Kahn's algorithm with a sorted ready set, so that the same graph always gives the same order. */
function stableTopoOrder(g: Graph): string[] {
  const indegree = new Map<string, number>();
  for (const n of g.nodes()) indegree.set(n, (g.predecessors(n) ?? []).length);
  const ready = [...indegree].filter(([, d]) => d === 0).map(([n]) => n).sort();
  const out: string[] = [];
  while (ready.length > 0) {
    const n = ready.shift()!;
    out.push(n);
    const next: string[] = [];
    for (const s of g.successors(n) ?? []) {
      const d = indegree.get(s)! - 1;
      indegree.set(s, d);
      if (d === 0) next.push(s);
    }
    if (next.length > 0) {
      ready.push(...next);
      ready.sort();
    }
  }
  return out;
}

/**
 * One concrete cycle path (not just the strongly connected set), or undefined. The path follows
 * `dependsOn` (each node is followed by one it needs), so `a -> b` reads as the user wrote it.
 */
function findCycle(g: Graph): string[] | undefined {
  const sccs = alg.findCycles(g);
  if (sccs.length === 0) return undefined;
  const members = new Set(sccs[0]!);
  const start = [...members].sort()[0]!;
  // Depth-first search inside the component from `start` back to `start`, along dependencies.
  const path: string[] = [start];
  const seen = new Set<string>([start]);
  const dfs = (n: string): boolean => {
    for (const s of [...(g.predecessors(n) ?? [])].sort()) {
      if (!members.has(s)) continue;
      if (s === start) return true;
      if (seen.has(s)) continue;
      seen.add(s);
      path.push(s);
      if (dfs(s)) return true;
      path.pop();
    }
    return false;
  };
  dfs(start);
  return path;
}

/**
 * graph/: the dependency DAG of a stack's components (explicit `dependsOn` and implicit
 * `valueFrom` edges), cycle detection that names the cycle, topological order and waves.
 * Order and waves come from plain adjacency lists (a service-level dependsOn between two
 * services of ten components is a hundred edges, and stacks have thousands of components);
 * @dagrejs/graphlib finds the strongly connected components when there is a cycle to name.
 */
import { Graph, alg } from '@dagrejs/graphlib';
import { ValidationError, type SourceLocation, type ValidationProblem } from '../errors.js';
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
  /** The length of the longest chain of dependencies below `id` (0: it needs nothing): its wave. */
  depthOf(id: string): number;
}

/**
 * Dependency depth, the one definition of it: the length of the longest chain of
 * `dependenciesOf` edges from each of `ids` (edges to nodes outside `ids` do not count). The
 * graph's waves, the scheduler's barrier mode and the plan's delete order all use it. A cycle
 * (never in a built graph; possible in a damaged recorded state) does not loop: the node that
 * closes it counts as depth 0 there.
 */
export function dependencyDepths(ids: Iterable<string>, dependenciesOf: (id: string) => Iterable<string>): Map<string, number> {
  const members = new Set(ids);
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    let d = 0;
    for (const dep of dependenciesOf(id)) if (dep !== id && members.has(dep)) d = Math.max(d, visit(dep) + 1);
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  for (const id of members) visit(id);
  return depth;
}

interface Node {
  id: string;
  dependsOn: readonly string[];
}

/**
 * Builds the graph of `nodes`; throws a ValidationError naming the cycle if there is one.
 * `describe` tells which references of a node are implicit; `locate` where a node was written.
 */
export function buildGraph(
  nodes: Iterable<Node>,
  describe?: (id: string) => DesiredComponent | undefined,
  locate?: (id: string, pointer: string) => SourceLocation,
): DependencyGraph {
  const list = [...nodes];
  const ids = new Set(list.map((n) => n.id));
  const preds = new Map<string, string[]>();
  const succs = new Map<string, string[]>(list.map((n) => [n.id, []]));
  for (const n of list) {
    // A dependency outside this set (already deployed, or filtered) does not order anything here.
    const deps = [...new Set(n.dependsOn)].filter((d) => ids.has(d) && d !== n.id);
    preds.set(n.id, deps);
    for (const d of deps) succs.get(d)!.push(n.id);
  }
  const order = stableTopoOrder(
    list.map((n) => n.id),
    preds,
    succs,
  );
  if (order.length < list.length) {
    const cycle = findCycle(
      list.map((n) => n.id),
      preds,
    );
    const first = describe?.(cycle[0]!);
    const problem: ValidationProblem = {
      location: locate?.(cycle[0]!, '/spec/dependsOn') ?? { file: first?.source.display ?? '-', line: 1, col: 1 },
      ...(first ? { document: `${first.kind}/${first.name}` } : {}),
      path: '/spec/dependsOn',
      message: `dependency cycle: ${[...cycle, cycle[0]].join(' -> ')}`,
      rule: 'cycle',
    };
    throw new ValidationError([problem]);
  }
  const depth = dependencyDepths(order, (id) => preds.get(id)!);
  const waves: string[][] = [];
  for (const id of order) (waves[depth.get(id)!] ??= []).push(id);
  for (const w of waves) w.sort();
  return {
    nodes: list.map((n) => n.id),
    dependenciesOf: (id) => [...(preds.get(id) ?? [])].sort(),
    dependentsOf: (id) => [...(succs.get(id) ?? [])].sort(),
    edges: () =>
      order.flatMap((to) => {
        const implicit = new Set(describe?.(to)?.references.map((r) => r.component) ?? []);
        return [...preds.get(to)!].sort().map((from) => ({ from, to, kind: (implicit.has(from) ? 'implicit' : 'explicit') as EdgeKind }));
      }),
    order,
    waves,
    depthOf: (id) => depth.get(id) ?? 0,
  };
}

/** Kahn's algorithm, taking the smallest ready id first, so that the same graph always gives the same order. */
function stableTopoOrder(ids: string[], preds: Map<string, string[]>, succs: Map<string, string[]>): string[] {
  const indegree = new Map(ids.map((id) => [id, preds.get(id)!.length]));
  const ready = new MinHeap(ids.filter((id) => indegree.get(id) === 0));
  const out: string[] = [];
  while (ready.size > 0) {
    const n = ready.pop();
    out.push(n);
    for (const s of succs.get(n)!) {
      const d = indegree.get(s)! - 1;
      indegree.set(s, d);
      if (d === 0) ready.push(s);
    }
  }
  return out;
}

/** One concrete cycle path (not just the strongly connected set), following dependencies. */
function findCycle(ids: string[], preds: Map<string, string[]>): string[] {
  const g = new Graph({ directed: true });
  for (const id of ids) g.setNode(id);
  for (const id of ids) for (const d of preds.get(id)!) g.setEdge(id, d);
  const members = new Set(alg.findCycles(g)[0]!);
  const start = [...members].sort()[0]!;
  // Depth-first search inside the component, along "needs" edges, from `start` back to `start`.
  const path: string[] = [start];
  const seen = new Set<string>([start]);
  const dfs = (n: string): boolean => {
    for (const s of [...(preds.get(n) ?? [])].sort()) {
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

/** A binary min-heap of strings (the ready set of the topological sort). */
class MinHeap {
  private readonly items: string[] = [];

  constructor(initial: string[]) {
    for (const x of initial) this.push(x);
  }

  get size(): number {
    return this.items.length;
  }

  push(x: string): void {
    const a = this.items;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= a[i]!) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }

  pop(): string {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      while (true) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]! < a[m]!) m = l;
        if (r < a.length && a[r]! < a[m]!) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Which other services each service depends on: a component's explicit (`dependsOn`) and
 * implicit (`valueFrom`) dependencies on components of other services (a component id is
 * `<service>/<name>`), by service name, sorted. Every service of `components` has an entry.
 */
export function serviceDependencies(
  components: Iterable<Pick<DesiredComponent, 'service' | 'dependsOn' | 'references'>>,
): Map<string, string[]> {
  const deps = new Map<string, Set<string>>();
  for (const c of components) {
    const mine = deps.get(c.service) ?? new Set<string>();
    deps.set(c.service, mine);
    for (const id of [...c.dependsOn, ...c.references.map((r) => r.component)]) {
      const other = id.slice(0, id.indexOf('/'));
      if (other !== c.service) mine.add(other);
    }
  }
  return new Map([...deps].map(([s, set]) => [s, [...set].sort()]));
}

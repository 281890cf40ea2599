/**
 * Walks a DAG the way Terraform's dag walker does: a node starts as soon as everything it
 * depends on has succeeded (no barrier waves), up to `concurrency` at a time. A node behind a
 * failure is "skipped: upstream failed", not failed, and names its root cause; unrelated
 * branches finish unless `failFast`. When `stop` is aborted, nothing new starts. Ready nodes
 * start critical path first (`weight`).
 */

export type NodeStatus = 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export interface NodeOutcome {
  id: string;
  status: NodeStatus;
  error?: unknown;
  /** For skipped nodes: the failed nodes that caused the skip (root causes only). */
  causes?: string[];
  startedAt?: number;
  endedAt?: number;
}

export interface ScheduleOptions {
  nodes: readonly string[];
  /** What must succeed before `id` starts (ids outside `nodes` are ignored). */
  dependenciesOf(id: string): readonly string[];
  run(id: string): Promise<void>;
  concurrency: number;
  /**
   * `graph` (default): a node starts as soon as its own dependencies succeeded. `waves`: barrier
   * layers, a node of wave n starts only once every node of the waves before it has finished.
   */
  mode?: 'graph' | 'waves';
  failFast?: boolean;
  /**
   * Expected duration of a node (any unit; default 1 each). Among the nodes ready to start, the
   * one with the longest expected path to the end of the graph goes first (critical path first,
   * as ninja does with the times of the last build), so a long chain is not held up behind
   * short leaves when concurrency is the limit.
   */
  weight?(id: string): number;
  /** Aborted: start nothing new; running nodes finish. */
  stop?: AbortSignal;
  onStart?(id: string): void;
  onFinish?(outcome: NodeOutcome): void;
}

export async function schedule(o: ScheduleOptions): Promise<Map<string, NodeOutcome>> {
  const nodes = new Set(o.nodes);
  const deps = new Map<string, string[]>();
  const dependents = new Map<string, string[]>();
  for (const id of o.nodes) {
    const d = [...new Set(o.dependenciesOf(id))].filter((x) => nodes.has(x) && x !== id);
    deps.set(id, d);
    for (const x of d) dependents.set(x, [...(dependents.get(x) ?? []), id]);
  }
  const outcomes = new Map<string, NodeOutcome>();
  const waiting = new Map<string, number>([...deps].map(([id, d]) => [id, d.length]));
  const priority = bottomLevels(o.nodes, dependents, o.weight ?? (() => 1));
  const order = new Map(o.nodes.map((id, i) => [id, i]));
  // Highest priority first; ties in the order given (stable output).
  const before = (a: string, b: string): boolean => priority.get(a)! > priority.get(b)! || (priority.get(a) === priority.get(b) && order.get(a)! < order.get(b)!);
  const ready: string[] = [];
  const enqueue = (id: string): void => {
    let lo = 0;
    let hi = ready.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(ready[mid]!, id)) lo = mid + 1;
      else hi = mid;
    }
    ready.splice(lo, 0, id);
  };
  for (const id of o.nodes) if (waiting.get(id) === 0) enqueue(id);
  let running = 0;
  let failed = false;
  let wake: (() => void) | undefined;

  const finish = (outcome: NodeOutcome): void => {
    outcomes.set(outcome.id, outcome);
    settle(outcome.id);
    o.onFinish?.(outcome);
    if (outcome.status === 'cancelled') return; // its dependents are cancelled too, by the same sweep
    for (const next of dependents.get(outcome.id) ?? []) {
      if (outcome.status !== 'succeeded') skip(next, outcome.status === 'failed' ? [outcome.id] : (outcome.causes ?? []));
      else {
        const left = waiting.get(next)! - 1;
        waiting.set(next, left);
        if (left === 0 && !outcomes.has(next)) enqueue(next);
      }
    }
  };
  const skip = (id: string, causes: string[]): void => {
    const existing = outcomes.get(id);
    if (existing) {
      if (existing.status !== 'skipped') return;
      const added = causes.filter((c) => !existing.causes!.includes(c));
      existing.causes!.push(...added);
      // A root cause learnt late reaches everything already skipped behind this node too.
      if (added.length > 0) for (const next of dependents.get(id) ?? []) skip(next, added);
      return;
    }
    finish({ id, status: 'skipped', causes: [...causes] });
  };

  const stopped = (): boolean => (o.stop?.aborted ?? false) || (failed && (o.failFast ?? false));
  const concurrency = Math.max(1, o.concurrency);

  // Waves: the longest dependency chain to a node is its wave; a wave waits for the ones before.
  const level = new Map<string, number>();
  const levelOf = (id: string): number => {
    let l = level.get(id);
    if (l === undefined) {
      l = 0;
      for (const d of deps.get(id)!) l = Math.max(l, levelOf(d) + 1);
      level.set(id, l);
    }
    return l;
  };
  const unfinished: number[] = [];
  if (o.mode === 'waves') for (const id of o.nodes) unfinished[levelOf(id)] = (unfinished[levelOf(id)] ?? 0) + 1;
  const startable = (id: string): boolean => {
    if (o.mode !== 'waves') return true;
    const l = levelOf(id);
    for (let i = 0; i < l; i++) if ((unfinished[i] ?? 0) > 0) return false;
    return true;
  };
  const settle = (id: string): void => {
    if (o.mode === 'waves') unfinished[levelOf(id)]!--;
  };

  await new Promise<void>((resolveAll) => {
    const pump = (): void => {
      while (!stopped() && running < concurrency) {
        const at = ready.findIndex(startable);
        if (at < 0) break;
        const id = ready.splice(at, 1)[0]!;
        if (outcomes.has(id)) continue;
        running++;
        const startedAt = Date.now();
        o.onStart?.(id);
        // Through a promise, so a `run` that throws synchronously fails its node instead of the walk.
        Promise.resolve()
          .then(() => o.run(id))
          .then(
          () => finish({ id, status: 'succeeded', startedAt, endedAt: Date.now() }),
          (error: unknown) => {
            failed = true;
            finish({ id, status: 'failed', error, startedAt, endedAt: Date.now() });
          },
        ).finally(() => {
          running--;
          pump();
        });
      }
      if (running === 0 && (ready.length === 0 || stopped())) {
        for (const id of o.nodes) if (!outcomes.has(id)) finish({ id, status: 'cancelled' });
        resolveAll();
      }
    };
    wake = pump;
    o.stop?.addEventListener('abort', () => wake?.(), { once: true });
    pump();
  });
  return outcomes;
}

/** Each node's weight plus the heaviest path from it to the end of the graph. */
function bottomLevels(nodes: readonly string[], dependents: Map<string, string[]>, weight: (id: string) => number): Map<string, number> {
  const out = new Map<string, number>();
  const visit = (id: string): number => {
    let v = out.get(id);
    if (v === undefined) {
      out.set(id, 0); // a cycle (never started anyway) ends the recursion
      v = 0;
      for (const next of dependents.get(id) ?? []) v = Math.max(v, visit(next));
      v += Math.max(0, weight(id));
      out.set(id, v);
    }
    return v;
  };
  for (const id of nodes) visit(id);
  return out;
}

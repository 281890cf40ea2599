/**
 * Walks a DAG the way Terraform's dag walker does: a node starts as soon as everything it
 * depends on has succeeded (no barrier waves), up to `concurrency` at a time. A node behind a
 * failure is "skipped: upstream failed", not failed, and names its root cause; unrelated
 * branches finish unless `failFast`. When `stop` is aborted, nothing new starts. Ready nodes
 * start critical path first (`weight`).
 */
import { dependencyDepths } from '../graph/index.js';

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
  /**
   * Whether `id` may start once its dependencies have started rather than succeeded: the run
   * hands them to an engine that orders them itself. It still ends behind them: when one fails
   * before it starts it is skipped, and when it is already running its run throws UpstreamFailed.
   */
  startsEarly?(id: string): boolean;
  /** Aborted: start nothing new; running nodes finish. */
  stop?: AbortSignal;
  onStart?(id: string): void;
  onFinish?(outcome: NodeOutcome): void;
}

/** Thrown by the run of a node that started early when a dependency failed: it is skipped. */
export class UpstreamFailed extends Error {
  constructor(id: string) {
    super(`${id}: upstream failed`);
  }
}

export async function schedule(o: ScheduleOptions): Promise<Map<string, NodeOutcome>> {
  const edges = indexEdges(o.nodes, o.dependenciesOf);
  const ready = new ReadyQueue(o.nodes, bottomLevels(o.nodes, edges.dependents, o.weight ?? (() => 1)));
  const gate = o.mode === 'waves' ? new WaveGate(o.nodes, edges.dependencies) : OPEN_GATE;
  return new Walk(o, edges, ready, gate).run();
}

/** Each node's dependencies and dependents, within the nodes being walked. */
interface Edges {
  dependencies: Map<string, string[]>;
  dependents: Map<string, string[]>;
}

function indexEdges(nodes: readonly string[], dependenciesOf: (id: string) => readonly string[]): Edges {
  const members = new Set(nodes);
  const dependencies = new Map<string, string[]>();
  const dependents = new Map<string, string[]>();
  for (const id of nodes) {
    const d = [...new Set(dependenciesOf(id))].filter((x) => members.has(x) && x !== id);
    dependencies.set(id, d);
    for (const x of d) dependents.set(x, [...(dependents.get(x) ?? []), id]);
  }
  return { dependencies, dependents };
}

/** The nodes ready to start, highest priority (critical path) first, ties in the order given. */
class ReadyQueue {
  private readonly queue: string[] = [];
  private readonly order: Map<string, number>;

  constructor(
    nodes: readonly string[],
    private readonly priority: Map<string, number>,
  ) {
    this.order = new Map(nodes.map((id, i) => [id, i]));
  }

  get size(): number {
    return this.queue.length;
  }

  add(id: string): void {
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.before(this.queue[mid]!, id)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, id);
  }

  /** Removes and returns the first node `startable` allows, if any. */
  take(startable: (id: string) => boolean): string | undefined {
    const at = this.queue.findIndex(startable);
    return at < 0 ? undefined : this.queue.splice(at, 1)[0];
  }

  private before(a: string, b: string): boolean {
    const pa = this.priority.get(a)!;
    const pb = this.priority.get(b)!;
    return pa > pb || (pa === pb && this.order.get(a)! < this.order.get(b)!);
  }
}

/** Whether a ready node may start yet (barrier waves), told of every node that ends. */
interface Gate {
  startable(id: string): boolean;
  settle(id: string): void;
}

const OPEN_GATE: Gate = { startable: () => true, settle: () => undefined };

/** Barrier waves: a node of wave n (its dependency depth) starts once waves 0..n-1 have ended. */
class WaveGate implements Gate {
  private readonly depth: Map<string, number>;
  private readonly unfinished: number[] = [];

  constructor(nodes: readonly string[], dependencies: Map<string, string[]>) {
    this.depth = dependencyDepths(nodes, (id) => dependencies.get(id)!);
    for (const d of this.depth.values()) this.unfinished[d] = (this.unfinished[d] ?? 0) + 1;
  }

  startable(id: string): boolean {
    const d = this.depth.get(id)!;
    for (let i = 0; i < d; i++) if ((this.unfinished[i] ?? 0) > 0) return false;
    return true;
  }

  settle(id: string): void {
    this.unfinished[this.depth.get(id)!]!--;
  }
}

/** One walk of the graph: starts ready nodes, records outcomes, skips what is behind a failure. */
class Walk {
  private readonly outcomes = new Map<string, NodeOutcome>();
  private readonly waiting: Map<string, number>;
  private running = 0;
  private readonly runningIds = new Set<string>();
  /** Early nodes whose run gave up behind a failed dependency (when it ran), until every dependency has ended. */
  private readonly behind = new Map<string, { startedAt: number; endedAt: number }>();
  private failed = false;
  private readonly concurrency: number;
  private done: () => void = () => undefined;

  constructor(
    private readonly o: ScheduleOptions,
    private readonly edges: Edges,
    private readonly ready: ReadyQueue,
    private readonly gate: Gate,
  ) {
    this.waiting = new Map([...edges.dependencies].map(([id, d]) => [id, d.length]));
    this.concurrency = Math.max(1, o.concurrency);
    for (const id of o.nodes) if (this.waiting.get(id) === 0) ready.add(id);
  }

  async run(): Promise<Map<string, NodeOutcome>> {
    await new Promise<void>((resolve) => {
      this.done = resolve;
      this.o.stop?.addEventListener('abort', () => this.pump(), { once: true });
      this.pump();
    });
    return this.outcomes;
  }

  private stopped(): boolean {
    return (this.o.stop?.aborted ?? false) || (this.failed && (this.o.failFast ?? false));
  }

  /** Starts what may start; once nothing runs and nothing more will, ends the walk. */
  private pump(): void {
    while (!this.stopped() && this.running < this.concurrency) {
      const id = this.ready.take((x) => this.gate.startable(x));
      if (id === undefined) break;
      if (!this.outcomes.has(id)) this.start(id);
    }
    // Nothing running: nothing will ever finish to let more start (ready nodes the wave gate holds
    // back behind a recorded cycle included), so what has not run is cancelled and the walk ends.
    if (this.running === 0) {
      for (const id of this.o.nodes) if (!this.outcomes.has(id)) this.finish({ id, status: 'cancelled' });
      this.done();
    }
  }

  private early(id: string): boolean {
    return this.o.startsEarly?.(id) ?? false;
  }

  private start(id: string): void {
    this.running++;
    const startedAt = Date.now();
    this.runningIds.add(id);
    this.o.onStart?.(id);
    for (const next of this.edges.dependents.get(id) ?? []) if (this.early(next)) this.release(next);
    // Through a promise, so a `run` that throws synchronously fails its node instead of the walk.
    Promise.resolve()
      .then(() => this.o.run(id))
      .then(
        () => this.finish({ id, status: 'succeeded', startedAt, endedAt: Date.now() }),
        (error: unknown) => {
          if (error instanceof UpstreamFailed) return this.endBehind(id, { startedAt, endedAt: Date.now() });
          this.failed = true;
          this.finish({ id, status: 'failed', error, startedAt, endedAt: Date.now() });
        },
      )
      .finally(() => {
        this.running--;
        this.runningIds.delete(id);
        this.pump();
      });
  }

  private finish(outcome: NodeOutcome): void {
    this.outcomes.set(outcome.id, outcome);
    this.gate.settle(outcome.id);
    this.o.onFinish?.(outcome);
    if (outcome.status === 'cancelled') return; // its dependents are cancelled too, by the same sweep
    for (const next of this.edges.dependents.get(outcome.id) ?? []) {
      if (this.behind.has(next)) this.endBehind(next);
      else if (outcome.status !== 'succeeded') this.skip(next, outcome.status === 'failed' ? [outcome.id] : (outcome.causes ?? []));
      else if (!this.early(next)) this.release(next);
    }
  }

  /** One dependency of `next` less to wait for (succeeded, or started for an early node). */
  private release(next: string): void {
    const left = this.waiting.get(next)! - 1;
    this.waiting.set(next, left);
    if (left === 0 && !this.outcomes.has(next)) this.ready.add(next);
  }

  /** An early node whose run gave up behind a failure: skipped, naming root causes, once every dependency has ended. */
  private endBehind(id: string, times?: { startedAt: number; endedAt: number }): void {
    if (times) this.behind.set(id, times);
    const dependencies = this.edges.dependencies.get(id)!.map((d) => this.outcomes.get(d));
    if (dependencies.some((d) => d === undefined)) return;
    const at = this.behind.get(id);
    this.behind.delete(id);
    const causes = [...new Set(dependencies.flatMap((d) => (d!.status === 'failed' ? [d!.id] : (d!.causes ?? []))))];
    this.finish(causes.length > 0 ? { id, status: 'skipped', causes, ...at } : { id, status: 'cancelled', ...at });
  }

  /** "Skipped: upstream failed", naming the root causes; a cause learnt late reaches everything behind. */
  private skip(id: string, causes: string[]): void {
    const existing = this.outcomes.get(id);
    if (!existing && this.runningIds.has(id)) return; // an early node: its run says how it ends
    if (!existing) return this.finish({ id, status: 'skipped', causes: [...causes] });
    if (existing.status !== 'skipped') return;
    const added = causes.filter((c) => !existing.causes!.includes(c));
    existing.causes!.push(...added);
    if (added.length > 0) for (const next of this.edges.dependents.get(id) ?? []) this.skip(next, added);
  }
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

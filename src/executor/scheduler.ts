/**
 * Walks a DAG the way Terraform's dag walker does: a node starts as soon as everything it
 * depends on has succeeded (no barrier waves), up to `concurrency` at a time. A node behind a
 * failure is "skipped: upstream failed", not failed, and names its root cause; unrelated
 * branches finish unless `failFast`. When `stop` is aborted, nothing new starts.
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
  const ready: string[] = o.nodes.filter((id) => waiting.get(id) === 0);
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
        if (left === 0 && !outcomes.has(next)) ready.push(next);
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

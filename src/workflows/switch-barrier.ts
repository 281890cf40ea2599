/**
 * The coordinator of the cross-region switch barrier (the participants' side and the files are in
 * targets/switch-barrier.ts). Regions applied in parallel each roll a component out on their
 * own; where the target holds the switch (the local supervisor), the new version is started and
 * verified, then waits here. The coordinator lets a component switch when every region has
 * either reached its switch or shown it will not make one (its plan does not change the
 * component, or the component finished without a switch), so all regions switch within a poll
 * interval of each other. Once any region failed, every switch still waiting is called off, and
 * the run rolls the regions back: no region moves traffic to a version that another refused.
 *
 * A rollout that arrives after its component's answer (a rollback within the region's run) is
 * let through at once: only the first switch of a component in a region is held. Components
 * are known by their directory name in the barrier (componentKey).
 *
 * Known limits: a failure is learnt from the region's events, and components deployed in one
 * Pulumi operation report theirs when the operation ends, so a component held while another of
 * its operation fails may still be let through (the run then rolls every region back); with
 * `--concurrency` below the components ready together, regions that start them in different
 * orders wait on each other until `switchTimeout`.
 */
import { promises as fs } from 'node:fs';
import type { RunEvent, RunListener } from '../executor/events.js';
import {
  barrierFiles,
  componentKey,
  readBarrierFile,
  SWITCH_BARRIER_ENV,
  writeBarrierFile,
  type SwitchAnswer,
  type SwitchBarrierRef,
  type SwitchReady,
} from '../targets/switch-barrier.js';

export interface SwitchBarrierOptions {
  /** Where the barrier's files go (removed by close()). */
  dir: string;
  /** The regions switching together. */
  regions: string[];
  /** The longest a participant waits for the others (regionRollout.switchTimeout). */
  timeoutMs: number;
  /** How often the coordinator looks for participants ready to switch (default 20 ms). */
  pollMs?: number;
}

const FAILED_RESULTS = new Set(['failed', 'skipped', 'cancelled']);

export class SwitchBarrier {
  /** Per region, the components its plan creates, updates or replaces (known once its plan is made). */
  private readonly planned = new Map<string, Set<string>>();
  /** Per region, the components it finished with (whatever the result). */
  private readonly settled = new Map<string, Set<string>>();
  /** Per component and region, the generation answered first: that answer was the decision. */
  private readonly answered = new Map<string, number>();
  /** The first failure in any region: from then on, no switch goes ahead. */
  private failure: string | undefined;
  private closed = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly o: SwitchBarrierOptions) {
    for (const r of o.regions) this.settled.set(r, new Set());
  }

  /** The variables a region's engine hands its providers, so that their switch waits here. */
  engineEnv(region: string): Record<string, string> {
    const ref: SwitchBarrierRef = { dir: this.o.dir, region, coordinatorPid: process.pid, timeoutMs: this.o.timeoutMs };
    return { [SWITCH_BARRIER_ENV]: JSON.stringify(ref) };
  }

  /** A listener for the region's run that learns its plan and its finished components, then passes each event on. */
  listener(region: string, next: RunListener): RunListener {
    return (e: RunEvent) => {
      this.observe(region, e);
      next(e);
    };
  }

  /** The region's run ended: what it had not reached will not switch; a failed run calls every switch off. */
  regionEnded(region: string, failure?: string): void {
    if (!this.planned.has(region)) this.planned.set(region, new Set());
    for (const id of this.planned.get(region)!) this.settled.get(region)?.add(id);
    if (failure !== undefined) this.failure ??= `region ${region} failed: ${failure}`;
  }

  /** Starts answering the participants. */
  start(): void {
    this.loop ??= this.poll();
  }

  /** Stops answering and removes the barrier's files (a participant still waiting then gives up: its run is over). */
  async close(): Promise<void> {
    this.closed = true;
    await this.loop;
    // A participant still waiting sees its ready file gone and gives its switch up.
    await fs.rm(this.o.dir, { recursive: true, force: true });
  }

  private observe(region: string, e: RunEvent): void {
    if (e.type === 'plan' && !this.planned.has(region)) {
      const changing = e.plan.actions.filter((a) => a.action === 'create' || a.action === 'update' || a.action === 'replace');
      this.planned.set(region, new Set(changing.map((a) => componentKey(a.id))));
    } else if (e.type === 'component-done') {
      this.settled.get(region)?.add(componentKey(e.report.id));
      if (FAILED_RESULTS.has(e.report.result) && this.failure === undefined)
        this.failure = `region ${region}: ${e.report.id} ${e.report.result}${e.report.reason ? ` (${firstLine(e.report.reason)})` : ''}`;
    }
  }

  private async poll(): Promise<void> {
    while (!this.closed) {
      await this.answerReady().catch(() => undefined); // a file being written: read again next time
      await new Promise((resolve) => setTimeout(resolve, this.o.pollMs ?? 20));
    }
  }

  /**
   * One look at every component some region deploys, or that waits (a component planned
   * unchanged whose inputs changed with a dependency's outputs deploys too): answers the
   * participants that may (or may not) switch now.
   */
  async answerReady(): Promise<void> {
    const waiting = await fs.readdir(this.o.dir).catch(() => [] as string[]);
    const components = new Set([...[...this.planned.values()].flatMap((s) => [...s]), ...waiting]);
    await Promise.all([...components].map((id) => this.answerComponent(id)));
  }

  private async answerComponent(id: string): Promise<void> {
    const ready = new Map<string, number>();
    await Promise.all(
      this.o.regions.map(async (region) => {
        const r = await readBarrierFile<SwitchReady>(barrierFiles(this.o.dir, id, region).ready);
        if (r?.gaveUp) this.failure ??= `region ${region} gave its switch of ${id} up: ${r.gaveUp}`;
        else if (r) ready.set(region, r.generation);
      }),
    );
    const waiting = [...ready].filter(([region, generation]) => this.answered.get(key(id, region)) !== generation);
    if (waiting.length === 0) return;
    // A later rollout in a region already answered (its rollback) is never held.
    const later = waiting.filter(([region]) => this.answered.has(key(id, region)));
    const first = waiting.filter(([region]) => !this.answered.has(key(id, region)));
    await Promise.all(later.map(([region, generation]) => this.answer(id, region, { generation, go: true })));
    if (first.length === 0) return;
    if (this.failure !== undefined) {
      const reason = this.failure;
      await Promise.all(first.map(([region, generation]) => this.answer(id, region, { generation, go: false, reason })));
      return;
    }
    const allThere = this.o.regions.every((region) => {
      const planned = this.planned.get(region);
      return planned !== undefined && (!planned.has(id) || ready.has(region) || this.settled.get(region)!.has(id));
    });
    if (allThere) await Promise.all(first.map(([region, generation]) => this.answer(id, region, { generation, go: true })));
  }

  private async answer(id: string, region: string, answer: SwitchAnswer): Promise<void> {
    await writeBarrierFile(barrierFiles(this.o.dir, id, region).answer, answer);
    this.answered.set(key(id, region), answer.generation);
  }
}

const key = (id: string, region: string): string => `${id}\u0000${region}`;

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 200);
}

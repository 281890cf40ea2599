/**
 * The cross-region switch barrier (seed 002 "Multi-Region Consistency"), the side of the one
 * that switches traffic. A multi-region run holds every region's switch to a new version until
 * all regions that deploy it have it verified and ready, then lets them all switch at once, or
 * calls them all off when a region failed. The run (workflows/switch-barrier.ts) coordinates;
 * a target's process that switches traffic (the local supervisor) takes part through files in
 * one directory per component:
 *
 * - `<region>.ready.json` {generation}: written by the participant when it is ready to switch;
 * - `<region>.go.json` {generation, go, reason}: written by the coordinator, the answer.
 *
 * The run names the directory to its engine's providers in DEPLOYER_SWITCH_BARRIER; a
 * participant that gets no answer (the run died, or the wait outlived its bound) does not switch.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readJsonIfValid } from '../util/atomic-write.js';
import { isAlive } from '../util/process.js';

/** The variable through which a run hands its barrier to the engine's provider processes. */
export const SWITCH_BARRIER_ENV = 'DEPLOYER_SWITCH_BARRIER';

/** A run's barrier, as one region's providers see it. */
export interface SwitchBarrierRef {
  /** The barrier's directory (one subdirectory per component). */
  dir: string;
  /** The region this participant switches. */
  region: string;
  /** The process of the run coordinating: once it is gone, nobody will answer. */
  coordinatorPid: number;
  /** The longest a participant waits for the other regions before it gives up the switch. */
  timeoutMs: number;
}

/** What one participant (one component in one region) waits on. */
export interface SwitchParticipant extends SwitchBarrierRef {
  component: string;
}

export interface SwitchReady {
  generation: number;
  at: string;
  /** Why the participant gave its switch up (it does not switch): the others must not either. */
  gaveUp?: string;
}

export interface SwitchAnswer {
  generation: number;
  go: boolean;
  /** Why not, when not. */
  reason?: string;
}

/** The barrier a provider process was handed by its run, if any. */
export function barrierFromEnv(env: NodeJS.ProcessEnv = process.env): SwitchBarrierRef | undefined {
  const raw = env[SWITCH_BARRIER_ENV];
  if (!raw) return undefined;
  try {
    const ref = JSON.parse(raw) as SwitchBarrierRef;
    return typeof ref.dir === 'string' && typeof ref.region === 'string' ? ref : undefined;
  } catch {
    return undefined;
  }
}

/** A component id as the name of its directory in a barrier (ids hold `/`); a name already made stays as it is. */
export function componentKey(component: string): string {
  return component.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** The directory of one component's switch inside a barrier. */
export function componentDir(barrierDir: string, component: string): string {
  return path.join(barrierDir, componentKey(component));
}

export function barrierFiles(barrierDir: string, component: string, region: string): { ready: string; answer: string } {
  const dir = componentDir(barrierDir, component);
  const name = region.replace(/[^A-Za-z0-9._-]/g, '_');
  return { ready: path.join(dir, `${name}.ready.json`), answer: path.join(dir, `${name}.go.json`) };
}

export const readBarrierFile = readJsonIfValid;

/** Renamed into place (a reader never sees half of it); not synced: it matters only while the run lives. */
export async function writeBarrierFile(file: string, value: SwitchReady | SwitchAnswer): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(value) + '\n');
  await fs.rename(tmp, file);
}

/**
 * Says the participant is ready to switch `generation` and waits for the answer: resolves on
 * go, throws (with the reason) when the switch is called off, when the run is gone, or when no
 * answer came within the barrier's bound. `onWait` is told once that it waits.
 */
export async function awaitSwitch(
  p: SwitchParticipant,
  generation: number,
  o: { pollMs?: number; onWait?: () => void } = {},
): Promise<void> {
  const f = barrierFiles(p.dir, p.component, p.region);
  await writeBarrierFile(f.ready, { generation, at: new Date().toISOString() } satisfies SwitchReady);
  o.onWait?.();
  const deadline = Date.now() + p.timeoutMs;
  for (;;) {
    const answer = await readBarrierFile<SwitchAnswer>(f.answer);
    if (answer?.generation === generation) {
      if (answer.go) return;
      throw new Error(`the switch was called off in every region: ${answer.reason ?? 'another region failed'}`);
    }
    if (!isAlive(p.coordinatorPid)) throw new Error('the run coordinating the switch across regions ended before it answered');
    if (!existsSync(f.ready)) throw new Error('the run coordinating the switch across regions closed its barrier before it answered');
    if (Date.now() > deadline) {
      const givenUp = `the other regions were not ready to switch within ${Math.round(p.timeoutMs / 1000)} s: the switch was given up`;
      // Said where the coordinator looks: a region that gave up is a region that failed, and the others must not switch.
      await writeBarrierFile(f.ready, { generation, at: new Date().toISOString(), gaveUp: givenUp }).catch(() => undefined);
      throw new Error(givenUp);
    }
    await sleep(o.pollMs ?? 10);
  }
}

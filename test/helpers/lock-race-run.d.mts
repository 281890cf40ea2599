/** Types of lock-race-run.mjs. */
export interface Hold {
  pid: number;
  lockId: string;
  start: bigint;
  end: bigint;
  /** The hold outlived its lease (the race would then prove nothing). */
  expired: boolean;
  /** Its release found its own lock (nobody took it meanwhile). */
  released: boolean;
}

export interface RaceOptions {
  url: string;
  journal: string;
  processes: number;
  each: number;
  ttlMs: number;
  env?: Record<string, string>;
}

export function lockRace(o: RaceOptions): Promise<{ holds: Hold[]; stderr: string; codes: Array<number | null> }>;
export function overlaps(holds: Hold[]): string[];

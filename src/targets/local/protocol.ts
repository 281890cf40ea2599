/**
 * The files through which a local MicroService's provider and its supervisor talk, in the
 * component's runtime directory: the provider writes `desired.json` and sends SIGHUP; the
 * supervisor rolls out that generation and reports in `status.json`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../../util/atomic-write.js';

export interface ProcessSpec {
  command: string[];
  cwd: string;
  env: Record<string, string>;
  port: number;
  healthCheck: {
    path: string;
    /** Seconds */
    interval: number;
    timeout: number;
    healthyThreshold: number;
    unhealthyThreshold: number;
    gracePeriod: number;
  };
  /** Seconds a new version has to become healthy. */
  startTimeout: number;
}

export interface Desired {
  generation: number;
  spec: ProcessSpec;
}

export type SupervisorState = 'starting' | 'ready' | 'failed' | 'restarting' | 'stopped';

export interface Status {
  generation: number;
  state: SupervisorState;
  /** Generation that serves traffic now (the last that became healthy). */
  servingGeneration: number;
  error?: string;
  supervisorPid: number;
  proxyPort?: number;
  backendPort?: number;
  childPid?: number;
  restarts: number;
  updatedAt: string;
}

export const files = (dir: string) => ({
  desired: path.join(dir, 'desired.json'),
  status: path.join(dir, 'status.json'),
  supervisorLog: path.join(dir, 'supervisor.log'),
  appLog: path.join(dir, 'app.log'),
});

export async function readJson<T>(file: string): Promise<T | undefined> {
  const body = await readFileIfExists(file);
  if (body === undefined) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Written readable by the owner only: desired.json holds the service's environment, secrets included. */
export async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', 0o600);
}

/** The last `lines` lines of a log file, for error messages. */
export async function tail(file: string, lines = 15): Promise<string> {
  const body = await fs.readFile(file, 'utf8').catch(() => '');
  return body.trimEnd().split('\n').slice(-lines).join('\n');
}

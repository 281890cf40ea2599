/** Running deployer as a user would: in this process (runCli) or as a child process (bin/deployer.js). */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { repoRoot } from './testdir.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** In-process, with captured output; `env` adds to the process environment. */
export async function deployer(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    interactive: false,
    env: { ...process.env, ...env },
  });
  return { code, stdout, stderr };
}

/** `deployer ... --json`, parsed. */
export async function deployerJson<T = Record<string, unknown>>(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; json: T; stderr: string }> {
  const r = await deployer([...args, '--json'], env);
  let json: T;
  try {
    json = JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
  }
  return { code: r.code, json, stderr: r.stderr };
}

export interface Spawned {
  child: ChildProcess;
  output: () => string;
  /** Resolves when the combined output contains `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  exit: Promise<number>;
}

/**
 * As a separate process, the way a second terminal or CI runner would run it. `ownGroup` starts it
 * as a terminal starts a command: leading a process group of its own, so that a signal to the
 * group (`process.kill(-pid)`) reaches it as a Ctrl-C in the terminal reaches every process of it.
 */
export function spawnDeployer(args: string[], env: Record<string, string> = {}, ownGroup = false): Spawned {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'deployer.js'), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: ownGroup,
  });
  let out = '';
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  const feed = (chunk: Buffer): void => {
    out += chunk.toString('utf8');
    for (const w of waiters.splice(0)) {
      if (out.includes(w.text)) w.resolve();
      else waiters.push(w);
    }
  };
  child.stdout!.on('data', feed);
  child.stderr!.on('data', feed);
  const exit = new Promise<number>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return {
    child,
    output: () => out,
    exit,
    waitFor(text, timeoutMs = 60_000) {
      if (out.includes(text)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for "${text}" in:\n${out}`)), timeoutMs);
        waiters.push({ text, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
  };
}

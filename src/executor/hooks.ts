/**
 * Pre- and post-hooks of a component: commands (no shell) run in order around its deployment,
 * with the component's identity (and, after, its outputs, secrets redacted) in the environment,
 * a timeout, and a failure policy — `fail` fails the component, `warn` reports and goes on.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { DeployerError } from '../errors.js';
import { durationMs } from '../util/duration.js';

/** `spec.hooks.pre[]` / `spec.hooks.post[]` as the schema allows them. */
export interface HookSpec {
  name?: string;
  command: string[];
  cwd?: string;
  env?: Record<string, string>;
  timeout?: string | number;
  onFailure?: 'fail' | 'warn';
}

export interface HookContext {
  stack: string;
  environment: string;
  component: string;
  action: string;
  /** Directory of the component's file: relative paths resolve against it. */
  baseDir: string;
  /** Post hooks: the component's outputs, secret ones redacted. */
  outputs?: Record<string, unknown>;
  signal?: AbortSignal;
  /** A line of a hook's output, or a warning about a hook that failed with onFailure: warn. */
  say: (message: string) => void;
}

export const HOOK_TIMEOUT_DEFAULT = '5m';
const KEPT_OUTPUT = 20;

export function hooksOf(spec: Record<string, unknown>, phase: 'pre' | 'post'): HookSpec[] {
  return ((spec['hooks'] as { pre?: HookSpec[]; post?: HookSpec[] } | undefined)?.[phase] ?? []) as HookSpec[];
}

/** Runs the hooks of `phase` one after another; throws on the first that fails with onFailure: fail. */
export async function runHooks(hooks: HookSpec[], phase: 'pre' | 'post', ctx: HookContext): Promise<void> {
  for (const hook of hooks) {
    const name = hook.name ?? hook.command.join(' ');
    const failure = await runOne(hook, phase, ctx, name);
    if (failure === undefined) continue;
    if ((hook.onFailure ?? 'fail') === 'warn') {
      ctx.say(`${phase} hook "${name}" failed (${failure.why}); onFailure: warn, going on`);
      continue;
    }
    throw new DeployerError('APPLY_FAILED', `${ctx.component}: ${phase} hook "${name}" failed: ${failure.why}`, {
      details: failure.output.length > 0 ? [`--- last lines of its output ---`, ...failure.output] : [],
    });
  }
}

async function runOne(hook: HookSpec, phase: string, ctx: HookContext, name: string): Promise<{ why: string; output: string[] } | undefined> {
  const cwd = path.resolve(ctx.baseDir, hook.cwd ?? '.');
  const program = hook.command[0]!.includes('/') ? path.resolve(ctx.baseDir, hook.command[0]!) : hook.command[0]!;
  const timeoutMs = durationMs(hook.timeout, HOOK_TIMEOUT_DEFAULT);
  const env = {
    ...process.env,
    ...(hook.env ?? {}),
    DEPLOYER_STACK: ctx.stack,
    DEPLOYER_ENVIRONMENT: ctx.environment,
    DEPLOYER_COMPONENT: ctx.component,
    DEPLOYER_ACTION: ctx.action,
    DEPLOYER_HOOK: phase,
    ...(ctx.outputs ? { DEPLOYER_OUTPUTS: JSON.stringify(ctx.outputs) } : {}),
  };
  const output: string[] = [];
  return new Promise((resolve) => {
    const child = spawn(program, hook.command.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let timedOut = false;
    let buffered = '';
    const take = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        output.push(line);
        if (output.length > KEPT_OUTPUT) output.shift();
        ctx.say(`${phase} hook "${name}": ${line}`);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const kill = (): void => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 2_000).unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    ctx.signal?.addEventListener('abort', kill, { once: true });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ why: `cannot run ${hook.command[0]}: ${err.message} (in ${cwd})`, output });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', kill);
      if (buffered) output.push(buffered);
      if (timedOut) resolve({ why: `timed out after ${Math.round(timeoutMs / 1000)} s`, output });
      else if (ctx.signal?.aborted) resolve({ why: 'cancelled', output });
      else if (code === 0) resolve(undefined);
      else resolve({ why: signal ? `killed by ${signal}` : `exit code ${code}`, output });
    });
  });
}

/**
 * Pre- and post-hooks of a component: commands (no shell) run in order around its deployment,
 * with the component's identity (and, after, its outputs, secrets redacted) in the environment,
 * a timeout, and a failure policy — `fail` fails the component, `warn` reports and goes on.
 * execa runs each one: it owns the timeout, the SIGTERM-then-SIGKILL and the cancellation.
 */
import path from 'node:path';
import type { Result } from 'execa';
import { DeployerError } from '../errors.js';
import { durationMs } from '../util/duration.js';

/** Why a hook failed, and the last lines of its output. */
interface Failure {
  why: string;
  output: string[];
}

/** `spec.hooks.pre[]` / `spec.hooks.post[]` as the schema allows them. */
export interface HookSpec {
  name?: string;
  command: string[];
  cwd?: string;
  env?: Record<string, string>;
  timeout?: string | number;
  onFailure?: 'fail' | 'warn';
}

/** What a hook runs for, and where its output goes. */
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
/** Lines of a failed hook's output shown with its error. */
const KEPT_OUTPUT = 20;
/** How long a hook has between SIGTERM (timeout, cancel) and SIGKILL. */
const KILL_GRACE_MS = 2_000;

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

async function runOne(hook: HookSpec, phase: string, ctx: HookContext, name: string): Promise<Failure | undefined> {
  const cwd = path.resolve(ctx.baseDir, hook.cwd ?? '.');
  const program = hook.command[0]!.includes('/') ? path.resolve(ctx.baseDir, hook.command[0]!) : hook.command[0]!;
  const timeoutMs = durationMs(hook.timeout, HOOK_TIMEOUT_DEFAULT);
  const { execa } = await import('execa'); // loaded only when a hook runs: 100 modules
  const subprocess = execa(program, hook.command.slice(1), {
    cwd,
    // Added to this process's environment (execa's extendEnv).
    env: {
      ...(hook.env ?? {}),
      DEPLOYER_STACK: ctx.stack,
      DEPLOYER_ENVIRONMENT: ctx.environment,
      DEPLOYER_COMPONENT: ctx.component,
      DEPLOYER_ACTION: ctx.action,
      DEPLOYER_HOOK: phase,
      ...(ctx.outputs ? { DEPLOYER_OUTPUTS: JSON.stringify(ctx.outputs) } : {}),
    },
    stdin: 'ignore',
    all: true,
    // Lines are read as they come (below), so execa keeps none of a chatty hook's output.
    buffer: false,
    timeout: timeoutMs,
    forceKillAfterDelay: KILL_GRACE_MS,
    ...(ctx.signal ? { cancelSignal: ctx.signal } : {}),
    reject: false,
    // Never execa's own logging (NODE_DEBUG=execa would turn it on): output goes through ctx.say only.
    verbose: 'none',
  });
  // Each line of stdout and stderr: shown, and the last ones kept for the error.
  const output: string[] = [];
  for await (const line of subprocess.iterable({ from: 'all' })) {
    output.push(line);
    if (output.length > KEPT_OUTPUT) output.shift();
    ctx.say(`${phase} hook "${name}": ${line}`);
  }
  const why = whyFailed(await subprocess, { program: hook.command[0]!, cwd, timeoutMs, signal: ctx.signal });
  return why === undefined ? undefined : { why, output };
}

/** Why a finished hook failed, in the words of the error and warning; undefined for a clean exit. */
function whyFailed(
  result: Result,
  run: { program: string; cwd: string; timeoutMs: number; signal: AbortSignal | undefined },
): string | undefined {
  if (result.timedOut) return `timed out after ${Math.round(run.timeoutMs / 1000)} s`;
  if (result.isCanceled || run.signal?.aborted) return 'cancelled';
  if (!result.failed) return undefined;
  if (result.signal) return `killed by ${result.signal}`;
  if (result.exitCode !== undefined) return `exit code ${result.exitCode}`;
  // Neither an exit nor a signal: it never started (no such program, a bad cwd); Node's message says which.
  const cause = result.cause instanceof Error ? result.cause.message : result.shortMessage;
  return `cannot run ${run.program}: ${cause} (in ${run.cwd})`;
}

/**
 * Running one component's Pulumi stack through the Automation API: an inline program, one
 * stack per component (`{stack}.{env}.{service}.{component}`) in a workspace directory of its
 * own, the backend `file://` (or `s3://`) URL shared by all of a stack's components. An
 * operation is one CLI call (operation.ts); a new stack is initialised once, when the backend
 * has no checkpoint of it. Failures are reported from the engine's structured events, never
 * by parsing stderr.
 */
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalWorkspace, type PulumiCommand, type EngineEvent, type PulumiFn, type Stack } from '@pulumi/pulumi/automation/index.js';
import { CancelledError, DeployerError, InternalError } from '../errors.js';
import { nodeModulesDir, packageRoot, pulumiSdkDir } from '../package-info.js';
import type { ComponentEngine, DestroyOptions, OperationOptions, ResourceChanges, UpResult } from './component-engine.js';
import { DestroyOrder } from './destroy-order.js';
import type { PulumiCli } from './pulumi-cli.js';
import { clearPulumiLocks, removeCutShortWrites, repairCheckpoint, type CheckpointRepair } from './pulumi-locks.js';
import { pendingOperations, removeStackObjects } from './checkpoint-objects.js';
import { collectDiagnostics, toProgress } from './engine-events.js';
import { runOperation, type OperationKind, type OperationOutcome } from './operation.js';
import { pulumiCommandAt, runCommand } from './pulumi-internals.js';
import { batchedCheckpoint } from './batch-store.js';
import { Gatherer, recoverDeadBatches, runBatches, type BatchHost, type BatchMember } from './batch-operation.js';
import { isBatchable } from '../util/resource-scope.js';
import { Mutex, Semaphore } from '../util/mutex.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { stringify as yamlStringify } from 'yaml';
import { RUN_MARKER, sessionRoot } from './session.js';
import { refreshPreviewOf, type RefreshPreview } from './refresh.js';

/** The project of the repository's Pulumi.yaml: every component stack belongs to it. */
export const PULUMI_PROJECT = readProjectName();

function readProjectName(): string {
  const text = readFileSync(path.join(packageRoot, 'Pulumi.yaml'), 'utf8');
  const name = /^name:\s*([A-Za-z0-9._-]+)\s*$/m.exec(text)?.[1];
  if (!name) throw new InternalError('Pulumi.yaml has no project name');
  return name;
}

export interface EngineConfig {
  cli: PulumiCli;
  /** Pulumi backend URL, e.g. `file:///srv/app/.deployer/stacks/shop/dev/pulumi`. */
  backendUrl: string;
  /** Directory under which each component stack gets its workspace directory. */
  workRoot: string;
  /** Passphrase of the passphrase secrets provider. */
  passphrase: string;
  /** Environment for the engine and its plugins (targets add theirs). */
  env: Record<string, string>;
  /** The run's id: every process the engine starts carries it, so a takeover can find them (leftovers.ts). */
  runId?: string;
  /**
   * Whether components ready together may share one Pulumi operation (batch-operation.ts; default
   * true). Only when this run owns every component of the stack: it holds the stack's lock.
   */
  batching?: boolean;
}

/** A Pulumi operation failed; `details` holds the engine's error diagnostics. */
export class EngineError extends DeployerError {
  constructor(operation: string, stackName: string, diagnostics: string[], cause?: unknown) {
    super('ENGINE_FAILED', `pulumi ${operation} of ${stackName} failed${diagnostics[0] ? `: ${diagnostics[0]}` : ''}`, {
      details: diagnostics.slice(1),
      cause,
    });
  }
}

/** Shared operations running at once: a Pulumi operation keeps about one core busy (the CLI, its provider). */
export const BATCHES_AT_ONCE = Math.max(2, os.availableParallelism());

/** One-stack operations running at once (the run's concurrency was 8 before operations were shared). */
const ALONE_OPERATIONS = 8;

/** The Pulumi engine through the Automation API: what the executor drives for real. */
export class Engine implements ComponentEngine {
  /** How many Pulumi operations this engine ran (a no-op apply must run none). */
  operations = 0;
  private command: Promise<PulumiCommand> | undefined;
  private readonly gatherer = new Gatherer((members) => this.runGathered(members), {
    slots: BATCHES_AT_ONCE,
    quietMs: 50,
    maxWaitMs: 300,
  });
  private readonly recovery = new Mutex();
  /**
   * One-stack operations at once (programs that cannot share one, refreshes, recoveries): each is
   * a CLI and its plugins, so the run's concurrency, which counts components, does not bound them.
   */
  private readonly alone = new Semaphore(ALONE_OPERATIONS);
  private readonly destroys = new DestroyOrder();

  constructor(private readonly config: EngineConfig) {}

  private pulumiCommand(): Promise<PulumiCommand> {
    this.command ??= sessionRoot(this.config.cli.binary, this.config.cli.root, path.join(this.config.workRoot, '.session')).then((root) =>
      pulumiCommandAt(path.join(root, 'bin', 'pulumi'), this.config.cli.version),
    );
    return this.command;
  }

  /** Environment of the Pulumi CLI and of the provider processes it starts. */
  private envVars(): Record<string, string> {
    const binDirs = [path.dirname(this.config.cli.binary), pulumiSdkDir];
    return {
      PULUMI_SKIP_UPDATE_CHECK: 'true',
      PULUMI_CONFIG_PASSPHRASE: this.config.passphrase,
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: 'false',
      // The dynamic-provider shim resolves @pulumi/pulumi from its working directory; point it at ours.
      NODE_PATH: [nodeModulesDir, process.env['NODE_PATH']].filter(Boolean).join(path.delimiter),
      PATH: [...binDirs, process.env['PATH'] ?? ''].join(path.delimiter),
      ...(this.config.runId ? { [RUN_MARKER]: this.config.runId } : {}),
      ...this.config.env,
    };
  }

  private async stack(stackName: string, program: PulumiFn): Promise<Stack> {
    const workDir = path.join(this.config.workRoot, stackName);
    await fs.mkdir(workDir, { recursive: true });
    await this.ensureFileBackend();
    return LocalWorkspace.createOrSelectStack(
      { projectName: PULUMI_PROJECT, stackName, program },
      {
        workDir,
        pulumiCommand: await this.pulumiCommand(),
        projectSettings: { name: PULUMI_PROJECT, runtime: 'nodejs', backend: { url: this.config.backendUrl } },
        secretsProvider: 'passphrase',
        envVars: this.envVars(),
      },
    );
  }

  /**
   * `pulumi up` of one component stack; returns its stack outputs. A batchable program shares
   * one Pulumi operation with the others started at the same moment (batch-operation.ts).
   */
  async up(o: OperationOptions): Promise<UpResult> {
    if (!isBatchable(o.program) || this.config.batching === false) {
      await this.ready(o);
      return this.upAlone(o);
    }
    return new Promise<UpResult>((resolve, reject) => this.gatherer.add({ kind: 'up', o, resolve, reject }));
  }

  /** `pulumi destroy` of one component stack (after those of `o.after`), then removes the stack from the backend. */
  destroy(o: DestroyOptions): Promise<ResourceChanges> {
    return this.destroys.track(o.stackName, async () => {
      if (this.config.batching === false) {
        await this.destroys.waitFor(o.stackName, o.after ?? [], o.stop);
        await this.ready(o);
        return this.destroyAlone(o);
      }
      // A destroy registers nothing: any component's shares an operation with the others.
      const r = await new Promise<UpResult>((resolve, reject) => this.gatherer.add({ kind: 'destroy', o, resolve, reject }));
      return r.changes;
    });
  }

  /** Whether destroys share operations (the executor's `destroysTogether` is set alike: sharesOperations). */
  get sharesDestroys(): boolean {
    return this.config.batching !== false;
  }

  /**
   * Before any change to a stack: what a killed run's batch (or one of this run whose split
   * failed) left is split back first; one look at a time, and this run's live batches are not dead.
   */
  private async ready(o: OperationOptions | undefined): Promise<void> {
    await this.ensureFileBackend();
    await this.recovery.run(() => recoverDeadBatches(this.batchHost(), (m) => o?.onNotice?.(m)));
  }

  private async runGathered(members: BatchMember[]): Promise<void> {
    try {
      await this.ready(members[0]?.o);
      await runBatches(this.batchHost(), members);
    } catch (err) {
      for (const m of members) m.reject(err);
    }
  }

  private batchHost(): BatchHost {
    return {
      backendUrl: this.config.backendUrl,
      project: PULUMI_PROJECT,
      cliVersion: this.config.cli.version,
      prepare: async (o) => (await this.prepare(o)).state,
      run: (stackName, program, onEvent, signal) => {
        this.operations++;
        // The op stack has no config of its own: its secrets manager is the one its checkpoint names.
        return this.run(stackName, 'up', program, onEvent, signal, ['--continue-on-error'], {
          PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER: 'true',
        });
      },
      alone: (m) =>
        m.kind === 'up' ? this.upAlone(m.o) : this.destroyAlone(m.o).then((changes) => ({ outputs: {}, secretOutputs: [], changes })),
      workDir: (stackName) => path.join(this.config.workRoot, stackName),
      waitFor: (stackName, after, stop) => this.destroys.waitFor(stackName, after, stop),
      failure: (operation, stackName, diagnostics, cause) => new EngineError(operation, stackName, diagnostics, cause),
      opsAtOnce: BATCHES_AT_ONCE,
    };
  }

  private async upAlone(o: OperationOptions): Promise<UpResult> {
    return this.operate('up', o, async (onEvent) => {
      const r = await this.run(o.stackName, 'up', o.program, onEvent, o.signal);
      return { outputs: r.outputs, secretOutputs: r.secretOutputs, changes: r.changes };
    });
  }

  private async destroyAlone(o: OperationOptions): Promise<ResourceChanges> {
    return this.operate('destroy', o, async (onEvent) => {
      const r = await this.run(o.stackName, 'destroy', o.program, onEvent, o.signal);
      await removeStackObjects(this.config.backendUrl, PULUMI_PROJECT, o.stackName);
      await fs.rm(path.join(this.config.workRoot, o.stackName), { recursive: true, force: true });
      return r.changes;
    });
  }

  /** One CLI operation in the stack's workspace (operation.ts). */
  private async run(
    stackName: string,
    kind: OperationKind,
    program: PulumiFn,
    onEvent: (e: EngineEvent) => void,
    signal: AbortSignal | undefined,
    flags: string[] = [],
    env: Record<string, string> = {},
  ): Promise<OperationOutcome> {
    return runOperation({
      command: await this.pulumiCommand(),
      workDir: await this.workspace(stackName),
      env: { ...this.envVars(), ...env },
      stackName,
      kind,
      program,
      flags,
      onEvent,
      ...(signal ? { signal } : {}),
    });
  }

  /** The stack's workspace directory with the project's Pulumi.yaml (written when it differs). */
  private async workspace(stackName: string): Promise<string> {
    const workDir = path.join(this.config.workRoot, stackName);
    const project = yamlStringify({ name: PULUMI_PROJECT, runtime: 'nodejs', backend: { url: this.config.backendUrl } });
    const file = path.join(workDir, 'Pulumi.yaml');
    if ((await fs.readFile(file, 'utf8').catch(() => undefined)) !== project) {
      await fs.mkdir(workDir, { recursive: true });
      await writeFileAtomic(file, project);
    }
    return workDir;
  }

  /** A `file://` backend's directory, which Pulumi does not make itself. */
  private async ensureFileBackend(): Promise<void> {
    if (this.config.backendUrl.startsWith('file://')) await fs.mkdir(fileURLToPath(this.config.backendUrl), { recursive: true });
  }

  /** `pulumi stack init` of a stack the backend does not have yet (its passphrase salt in the workspace). */
  private async createStack(stackName: string): Promise<void> {
    await this.ensureFileBackend();
    const args = ['stack', 'init', stackName, '--secrets-provider', 'passphrase'];
    await runCommand(await this.pulumiCommand())(args, await this.workspace(stackName), this.envVars());
  }

  /**
   * What a refresh would find, without writing anything (`pulumi refresh --preview-only`): each
   * resource's recorded outputs beside what its provider reads now. No lock of an earlier
   * pulumi is cleared and no checkpoint repaired: a read-only look leaves that to the next run.
   */
  async previewRefresh(o: Pick<OperationOptions, 'stackName' | 'signal' | 'onProgress'>): Promise<RefreshPreview> {
    const events: EngineEvent[] = [];
    const diagnostics: string[] = [];
    try {
      const stack = await this.stack(o.stackName, async () => ({}));
      const exported = await stack.exportStack();
      this.operations++;
      await stack.previewRefresh({
        onEvent: (e) => {
          events.push(e);
          collectDiagnostics(e, diagnostics);
          const p = toProgress(o.stackName, e);
          if (p) o.onProgress?.(p);
        },
        ...(o.signal ? { signal: o.signal } : {}),
        color: 'never',
      });
      // A batch holding this component (one running, or one a killed run left) has its newer checkpoint.
      const batched = await batchedCheckpoint(this.config.backendUrl, PULUMI_PROJECT, o.stackName);
      const deployment = batched?.checkpoint.latest
        ? { ...exported.deployment, pending_operations: batched.checkpoint.latest.pending_operations ?? [] }
        : exported.deployment;
      return refreshPreviewOf(deployment, events);
    } catch (err) {
      if (o.signal?.aborted) throw new CancelledError(`refresh of ${o.stackName} was cancelled`);
      throw new EngineError('refresh --preview-only', o.stackName, diagnostics.length > 0 ? diagnostics : [firstLine(err)], err);
    }
  }

  /**
   * Pending operations left by a killed run: refresh, clearing the creates Pulumi cannot account
   * for. `always`: refresh even with nothing pending (a checkpoint put back, a drift remediation).
   */
  private async recoverPending(o: OperationOptions, onEvent: (e: EngineEvent) => void, always: boolean): Promise<void> {
    const pending = await pendingOperations(this.config.backendUrl, PULUMI_PROJECT, o.stackName);
    // A checkpoint put back from an earlier copy may lag behind what exists: refreshed too.
    if (pending === 0 && !always) return;
    o.onNotice?.(
      pending > 0
        ? `${pending} operation(s) of an interrupted run are pending on ${o.stackName}: refreshing it first`
        : `refreshing ${o.stackName} against what really exists`,
    );
    this.operations++;
    await this.run(o.stackName, 'refresh', o.program, onEvent, o.signal, ['--clear-pending-creates']);
  }

  private operate<T>(operation: string, o: OperationOptions, fn: (onEvent: (e: EngineEvent) => void) => Promise<T>): Promise<T> {
    return this.alone.run(() => this.operateNow(operation, o, fn));
  }

  private async operateNow<T>(operation: string, o: OperationOptions, fn: (onEvent: (e: EngineEvent) => void) => Promise<T>): Promise<T> {
    if (o.signal?.aborted) throw new CancelledError(`${operation} of ${o.stackName} cancelled before it started`);
    const diagnostics: string[] = [];
    const onEvent = (e: EngineEvent): void => {
      collectDiagnostics(e, diagnostics);
      const p = toProgress(o.stackName, e);
      if (p) o.onProgress?.(p);
    };
    try {
      const repair = await this.prepare(o);
      if (repair.state === 'absent') await this.createStack(o.stackName);
      const refresh = repair.state === 'restored' || o.refresh === true;
      if ((o.recover || refresh) && repair.state !== 'absent') await this.recoverPending(o, onEvent, refresh);
      this.operations++;
      return await fn(onEvent);
    } catch (err) {
      if (o.signal?.aborted) throw new CancelledError(`${operation} of ${o.stackName} was cancelled`);
      throw new EngineError(operation, o.stackName, diagnostics.length > 0 ? diagnostics : [firstLine(err)], err);
    }
  }

  /** What an earlier, killed pulumi left on the stack's objects in the backend: cleared or repaired. */
  private async prepare(o: OperationOptions): Promise<CheckpointRepair> {
    await clearPulumiLocks(this.config.backendUrl, PULUMI_PROJECT, o.stackName, {
      onWait: (l) => o.onNotice?.(`waiting for an earlier pulumi (pid ${l.pid} on ${l.hostname}) to release ${o.stackName}`),
      onRemoved: (l) => o.onNotice?.(`removed the lock a killed pulumi (pid ${l.pid}) left on ${o.stackName}`),
    });
    const leftovers = await removeCutShortWrites(this.config.backendUrl, PULUMI_PROJECT, o.stackName);
    if (leftovers.length > 0)
      o.onNotice?.(
        `removed ${leftovers.length} temporary file(s) that a write cut short left in Pulumi's backend (${leftovers.map((f) => path.basename(f)).join(', ')})`,
      );
    // Before Pulumi reads it, once no earlier pulumi can still be writing it: a checkpoint whose
    // write was cut short (a full disk, a killed run) would fail this and every later operation.
    const repair = await repairCheckpoint(this.config.backendUrl, PULUMI_PROJECT, o.stackName);
    if (repair.state === 'restored') {
      o.onNotice?.(
        `the checkpoint of ${o.stackName} did not parse (its last write was cut short: a full disk, a killed run): restored Pulumi's copy ${repair.from}`,
      );
    }
    return repair;
  }
}

/** For failures before the engine sends events (e.g. initialising the stack): the CLI's `error:` line. */
function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return (
    lines
      .find((l) => l.startsWith('error:'))
      ?.slice('error:'.length)
      .trim() ??
    lines[0] ??
    'unknown error'
  );
}

/**
 * Components that are ready at the same moment deployed by one Pulumi operation. A Pulumi
 * operation costs a CLI start, a passphrase key derivation and a provider process whatever it
 * changes; a stack of 40 components whose 38 leaves are ready together paid that 40 times. So the
 * engine gathers the operations the executor starts together (Gatherer) and, for
 * those whose programs are batchable (util/resource-scope.ts), runs them as one `pulumi up
 * --continue-on-error` on a transient stack (`deployer-batch.<pid>.<n>`) merged from the members'
 * checkpoints (batch-checkpoint.ts), then splits the result back into each member's checkpoint and
 * removes the transient stack. Each component keeps its own stack, checkpoint, failure and
 * outputs: a failed resource fails its member only, and a failure the engine does not attribute to
 * a member is retried by each member alone. A destroy member contributes no resources (so they are
 * deleted). The split of a transient stack a killed run left behind is redone before any member
 * is touched again.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { EngineEvent, PulumiFn } from '@pulumi/pulumi/automation/index.js';
import { CancelledError } from '../errors.js';
import { inResourceScope } from '../util/resource-scope.js';
import { backendObjects, type BackendObjects } from './backend-objects.js';
import { memberOfUrn, mergeCheckpoints, shareableProviders, unscopedName, type CheckpointFile } from './batch-checkpoint.js';
import { afterOf, behindStopped, groupBySalt, ordered, shareOut } from './batch-groups.js';
import { OP_PREFIX, recoverDeadOps, splitBack, writeOp } from './batch-store.js';
import { readCheckpoint } from './checkpoint-objects.js';
import type { DestroyOptions, OperationOptions, ResourceChanges, UpResult } from './component-engine.js';
import { collectDiagnostics, toProgress } from './engine-events.js';
import { capturingProgram, type OperationOutcome } from './operation.js';

/** One component's operation waiting for its batch. */
export interface BatchMember {
  kind: 'up' | 'destroy';
  o: DestroyOptions;
  resolve: (r: UpResult) => void;
  reject: (err: unknown) => void;
}

/** What a batch needs of the engine. */
export interface BatchHost {
  backendUrl: string;
  project: string;
  cliVersion: string;
  /** Clears what a killed pulumi left on the stack; says whether its checkpoint was put back. */
  prepare(o: OperationOptions): Promise<'intact' | 'absent' | 'restored'>;
  /** One `pulumi up` of the op stack (counted as one operation). */
  run(stackName: string, program: PulumiFn, onEvent: (e: EngineEvent) => void, signal: AbortSignal | undefined): Promise<OperationOutcome>;
  /** The member's operation on its own stack (the engine's one-stack path). */
  alone(m: BatchMember): Promise<UpResult>;
  /** The stack's workspace directory (removed with the op stack, and with a destroyed member). */
  workDir(stackName: string): string;
  /** Resolves once the destroys of `after` ended; throws DestroyBlockedError when one failed (destroy-order.ts). */
  waitFor(stackName: string, after: readonly string[], stop?: AbortSignal): Promise<void>;
  failure(operation: string, stackName: string, diagnostics: string[], cause?: unknown): Error;
  /** How many shared operations the machine runs well at once (one per core): a large group is shared out among them (batch-groups.ts). */
  opsAtOnce: number;
}

/** A member that may share an operation, with the checkpoint it starts from. */
interface Eligible {
  m: BatchMember;
  checkpoint: CheckpointFile | undefined;
}

let opCounter = 0;

/**
 * Collects the operations the executor starts and hands them over together: a batch leaves once
 * no operation has arrived for `quietMs` (the executor reaches the engine one state write apart),
 * or `maxWaitMs` after its first; while `slots` batches are running, arrivals wait and join the
 * next one (a batch costs the same for one member as for forty).
 */
export class Gatherer {
  private waiting: BatchMember[] = [];
  private timer: NodeJS.Timeout | undefined;
  private firstAt = 0;
  private running = 0;

  constructor(
    private readonly flush: (members: BatchMember[]) => Promise<void>,
    private readonly o: { slots: number; quietMs: number; maxWaitMs: number },
  ) {}

  add(m: BatchMember): void {
    if (this.waiting.length === 0) this.firstAt = Date.now();
    this.waiting.push(m);
    this.schedule();
  }

  private schedule(): void {
    if (this.waiting.length === 0 || this.running >= this.o.slots) return;
    clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.o.quietMs, this.firstAt + this.o.maxWaitMs - Date.now()));
    this.timer = setTimeout(() => this.leave(), wait);
  }

  private leave(): void {
    this.timer = undefined;
    const members = this.waiting.splice(0);
    this.running++;
    void this.flush(members).finally(() => {
      this.running--;
      this.schedule();
    });
  }
}

/** Runs the gathered members: each eligible salt group as one operation, the others alone. */
export async function runBatches(host: BatchHost, members: BatchMember[]): Promise<void> {
  const objects = backendObjects(host.backendUrl);
  if (!objects) return void (await Promise.all(members.map((m) => aloneAfter(host, m))));
  const eligible: Eligible[] = [];
  const alone: BatchMember[] = [];
  const nothing: BatchMember[] = [];
  await Promise.all(
    members.map(async (m) => {
      try {
        if (m.o.signal?.aborted) throw new CancelledError(`${m.kind} of ${m.o.stackName} cancelled before it started`);
        const repair = await host.prepare(m.o);
        const checkpoint = await readCheckpoint(objects, host.project, m.o.stackName);
        // A destroy of a stack the backend does not have (a create that failed): nothing to do.
        if (m.kind === 'destroy' && checkpoint === undefined) return void nothing.push(m);
        // A put-back checkpoint, pending operations, a refresh, or a provider with settings of its own.
        const own =
          repair === 'restored' ||
          m.o.refresh === true ||
          (checkpoint?.checkpoint.latest?.pending_operations?.length ?? 0) > 0 ||
          !shareableProviders(checkpoint);
        if (own) alone.push(m);
        else eligible.push({ m, checkpoint });
      } catch (err) {
        m.reject(m.o.signal?.aborted ? new CancelledError(`${m.kind} of ${m.o.stackName} was cancelled`) : err);
      }
    }),
  );
  // All at once: a destroy (with nothing, alone, or later) may wait for one in a batch, and back.
  const groups = groupBySalt(eligible).map(ordered);
  await Promise.all([
    ...nothing.map((m) => forget(host, m)),
    ...alone.map((m) => aloneAfter(host, m)),
    ...groups.flatMap((g) => g.later.map((e) => aloneAfter(host, e.m))),
    ...groups.map((g) => runGroup(host, objects, g.together)),
  ]);
}

/** A group's members as operations: shared out when large (batch-groups.ts shareOut). */
async function runGroup(host: BatchHost, objects: BackendObjects, together: Eligible[]): Promise<void> {
  const { now, next } = shareOut(together, host.opsAtOnce);
  await Promise.all([...now.map((part) => runBatch(host, objects, part)), ...(next.length > 0 ? [runNext(host, objects, next)] : [])]);
}

/**
 * Destroys that follow those of operations already running: each waits for the destroys it
 * follows outside `next` to end. One behind a destroy that failed does not start, nor does one
 * behind it: they end blocked (DestroyBlockedError), what they depend on kept. Once every wait has
 * ended, a run told to stop meanwhile starts none of them. The others go on as a group of their
 * own, in the same order.
 */
async function runNext(host: BatchHost, objects: BackendObjects, next: Eligible[]): Promise<void> {
  const inNext = new Set(next.map((e) => e.m.o.stackName));
  const outside = (m: BatchMember): string[] => afterOf(m).filter((a) => !inNext.has(a));
  const stopped = new Set<string>();
  const hold = async (m: BatchMember, stop?: AbortSignal): Promise<void> => {
    if (stopped.has(m.o.stackName)) return;
    try {
      await host.waitFor(m.o.stackName, outside(m), stop);
    } catch (err) {
      stopped.add(m.o.stackName);
      m.reject(err);
    }
  };
  await Promise.all(next.map(({ m }) => hold(m)));
  // Their predecessors have all ended, so this asks at once: has the run been told to stop?
  await Promise.all(next.map(({ m }) => hold(m, m.o.stop)));
  const { go, behind } = behindStopped(next, stopped);
  // Behind a stopped one, waiting for it ends blocked too (aloneAfter never gets to run them).
  await Promise.all([...behind.map((e) => aloneAfter(host, e.m)), runGroup(host, objects, go)]);
}

/** A destroy with nothing to delete: done once those it must follow are, as if it had deleted something. */
async function forget(host: BatchHost, m: BatchMember): Promise<void> {
  try {
    await host.waitFor(m.o.stackName, afterOf(m), m.o.stop);
    await fs.rm(host.workDir(m.o.stackName), { recursive: true, force: true });
    m.resolve({ outputs: {}, secretOutputs: [], changes: {} });
  } catch (err) {
    m.reject(err);
  }
}

/** The member on its own stack, once the destroys it must follow have ended. */
async function aloneAfter(host: BatchHost, m: BatchMember): Promise<void> {
  try {
    await host.waitFor(m.o.stackName, afterOf(m), m.o.stop);
  } catch (err) {
    return m.reject(err);
  }
  await settle(m, host.alone(m));
}

async function settle(m: BatchMember, result: Promise<UpResult>): Promise<void> {
  await result.then(m.resolve, m.reject);
}

/** What the events of the op said about one member. */
interface MemberEvents {
  diagnostics: string[];
  failed: boolean;
  changes: ResourceChanges;
  /** The URNs of its steps that started, and of those that finished. */
  started: Set<string>;
  done: Set<string>;
}

async function runBatch(host: BatchHost, objects: BackendObjects, group: Eligible[]): Promise<void> {
  const op = `${OP_PREFIX}${process.pid}.${++opCounter}`;
  const byStack = new Map(group.map((e) => [e.m.o.stackName, e]));
  const seen = new Map<string, MemberEvents>(
    [...byStack.keys()].map((s) => [s, { diagnostics: [], failed: false, changes: {}, started: new Set(), done: new Set() }]),
  );
  const captures = new Map(group.filter((e) => e.m.kind === 'up').map((e) => [e.m.o.stackName, capturingProgram(e.m.o.program)]));
  const programErrors = new Map<string, unknown>();
  const program: PulumiFn = async () => {
    const out: Record<string, unknown> = {};
    await Promise.all(
      [...captures].map(async ([stack, c]) => {
        try {
          out[stack] = await inResourceScope(stack, () => c.program());
        } catch (err) {
          programErrors.set(stack, err);
          throw err; // a member's program that stops half-way must not let Pulumi delete what it did not register
        }
      }),
    );
    return out;
  };
  const onEvent = (e: EngineEvent): void => routeEvent(e, byStack, seen);
  let opError: unknown;
  let remaining: Set<string>;
  try {
    const merged = mergeCheckpoints(
      op,
      host.project,
      group.map((e) => ({ stack: e.m.o.stackName, checkpoint: e.checkpoint, after: afterOf(e.m) })),
      manifestOf(host.cliVersion),
    );
    await writeOp(objects, host, op, [...byStack.keys()], merged);
    await host.run(op, program, onEvent, group[0]!.m.o.signal).catch((err: unknown) => (opError = err));
    remaining = await splitBack(objects, host, op, [...byStack.keys()]);
  } catch (err) {
    // The op's record stays: the next operation of this run, or the next run, splits it back first.
    for (const e of group) e.m.reject(err);
    return;
  }
  const outcome = { opError, programErrors, captures, remaining };
  // Never throws: what follows this op (runNext) must not outlive a rejected batch.
  await Promise.all(group.map((e) => settleMember(host, e, seen.get(e.m.o.stackName)!, outcome).catch((err: unknown) => e.m.reject(err))));
}

/** What the op did, for each member's outcome. */
interface OpOutcome {
  opError: unknown;
  programErrors: Map<string, unknown>;
  captures: Map<string, ReturnType<typeof capturingProgram>>;
  /** The members that still have resources after it. */
  remaining: Set<string>;
}

/** A member's outcome from what the op's events said of it. */
async function settleMember(host: BatchHost, e: Eligible, seen: MemberEvents, o: OpOutcome): Promise<void> {
  const { m } = e;
  const stack = m.o.stackName;
  // Behind a destroy that failed, Pulumi deleted nothing of this one; it must not run alone either.
  try {
    await host.waitFor(stack, afterOf(m));
  } catch (err) {
    return m.reject(err);
  }
  if (o.opError !== undefined && m.o.signal?.aborted) return m.reject(new CancelledError(`${m.kind} of ${stack} was cancelled`));
  const programError = o.programErrors.get(stack);
  if (programError !== undefined) return m.reject(host.failure(m.kind, stack, [firstLine(programError)], programError));
  if (seen.failed)
    return m.reject(host.failure(m.kind, stack, seen.diagnostics.length > 0 ? seen.diagnostics : ['a resource failed'], o.opError));
  // The op failed, and not by anything of this member's that the events name: unless every step of
  // it finished (another member's resource failed), it runs again alone, on its own stack. So does
  // everyone when a program stopped the op (Pulumi stops registering the others' resources too).
  const finished = seen.started.size > 0 && [...seen.started].every((u) => seen.done.has(u));
  if (o.opError !== undefined && (o.programErrors.size > 0 || !finished)) return settle(m, host.alone(m));
  if (m.kind === 'destroy') {
    if (o.remaining.has(stack)) return m.reject(host.failure('destroy', stack, ['some of its resources were not deleted'], o.opError));
    await fs.rm(host.workDir(stack), { recursive: true, force: true });
  }
  const rootOp = m.kind === 'destroy' ? 'delete' : e.checkpoint?.checkpoint.latest?.resources?.length ? 'same' : 'create';
  const changes = { ...seen.changes, [rootOp]: (seen.changes[rootOp] ?? 0) + 1 };
  const c = o.captures.get(stack);
  m.resolve({ outputs: c?.outputs ?? {}, secretOutputs: c ? [...c.secret] : [], changes });
}

/** Progress, failures and changes of the op's events, to the member whose resource they name. */
function routeEvent(e: EngineEvent, byStack: Map<string, { m: BatchMember }>, seen: Map<string, MemberEvents>): void {
  const meta = e.resourcePreEvent?.metadata ?? e.resOutputsEvent?.metadata ?? e.resOpFailedEvent?.metadata;
  const urn = meta?.urn ?? e.diagnosticEvent?.urn;
  const stack = urn ? memberOfUrn(urn) : undefined;
  const member = stack ? byStack.get(stack) : undefined;
  if (!member || !stack) return;
  const s = seen.get(stack)!;
  collectDiagnostics(e, s.diagnostics);
  if (e.diagnosticEvent?.severity === 'error' || e.resOpFailedEvent) s.failed = true;
  if (!meta) return;
  if (e.resourcePreEvent) s.started.add(meta.urn);
  if (e.resOutputsEvent) {
    s.done.add(meta.urn);
    s.changes[meta.op] = (s.changes[meta.op] ?? 0) + 1;
  }
  const progress = toProgress(stack, e, unscopedName);
  if (progress) member.m.o.onProgress?.(progress);
}

/** Ops a killed run left, split back into their members (batch-store.ts). */
export async function recoverDeadBatches(host: BatchHost, notice: (message: string) => void): Promise<void> {
  const objects = backendObjects(host.backendUrl);
  if (objects) await recoverDeadOps(objects, host, notice);
}

function manifestOf(cliVersion: string): Record<string, unknown> {
  const version = `v${cliVersion.replace(/^v/, '')}`;
  return { time: new Date().toISOString(), magic: createHash('sha256').update(version).digest('hex'), version };
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'unknown error';
}

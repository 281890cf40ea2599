/**
 * One Pulumi operation as one CLI call. The Automation API's `Stack.up` selects the stack first
 * and reads its outputs (twice: plain, then with secrets) and its last history entry afterwards:
 * five processes of the Pulumi CLI, each paying again for its start (~0.3 s), those that read
 * secrets also for deriving the passphrase's key (~0.35 s). deployer knows those answers already: every command names its stack (`--stack`), the program hands back its
 * outputs as it resolves them, and the engine's summary event carries the resource changes.
 * So an operation here is the inline program behind an in-process language server, the engine's
 * events on a gRPC endpoint, and `pulumi up|destroy|refresh` once (pulumi-internals.ts).
 */
import * as pulumi from '@pulumi/pulumi';
import type { EngineEvent, PulumiCommand, PulumiFn } from '@pulumi/pulumi/automation/index.js';
import type { ResourceChanges } from './component-engine.js';
import {
  eventsImplementation,
  eventsService,
  grpc,
  grpcServerOptions,
  LanguageServer,
  languageService,
  listen,
  runCommand,
} from './pulumi-internals.js';

export type OperationKind = 'up' | 'destroy' | 'refresh';

/** One CLI operation on one stack. */
export interface OperationRequest {
  command: PulumiCommand;
  /** The workspace directory: holds Pulumi.yaml, the CLI's working directory. */
  workDir: string;
  env: Record<string, string>;
  stackName: string;
  kind: OperationKind;
  /** The inline program (up; destroy and refresh run it only when Pulumi asks). */
  program: PulumiFn;
  /** More flags (`--continue-on-error`, `--clear-pending-creates`, ...). */
  flags?: string[];
  onEvent: (e: EngineEvent) => void;
  signal?: AbortSignal;
}

/** What the operation did: the stack's outputs as the program resolved them, and the summary. */
export interface OperationOutcome {
  /** The program's outputs, resolved (only an `up` that ran the program has them). */
  outputs: Record<string, unknown>;
  /** The names of the outputs that are secret. */
  secretOutputs: string[];
  changes: ResourceChanges;
}

const FLAGS: Record<OperationKind, string[]> = {
  up: ['up', '--yes', '--skip-preview'],
  destroy: ['destroy', '--yes', '--skip-preview'],
  refresh: ['refresh', '--yes', '--skip-preview'],
};

/** Runs the operation; rejects with the CLI's CommandError when it fails. */
export async function runOperation(r: OperationRequest): Promise<OperationOutcome> {
  const captured = capturingProgram(r.program);
  const language = new grpc.Server(grpcServerOptions);
  const languageServer = new LanguageServer(captured.program);
  language.addService(languageService, languageServer);
  const events = new grpc.Server(grpcServerOptions);
  let changes: ResourceChanges = {};
  events.addService(
    eventsService,
    eventsImplementation(
      (e) => {
        if (e.summaryEvent) changes = (e.summaryEvent.resourceChanges ?? {}) as ResourceChanges;
        r.onEvent(e);
      },
      () => undefined, // the SDK only logs an event it cannot parse; there is nothing to pass on
    ),
  );
  let failed = false;
  try {
    const [languagePort, eventsPort] = await Promise.all([listen(language), listen(events)]);
    const args = [
      ...FLAGS[r.kind],
      ...(r.flags ?? []),
      '--color',
      'never',
      `--client=127.0.0.1:${languagePort}`,
      '--exec-kind',
      'auto.inline',
      '--event-log',
      `tcp://127.0.0.1:${eventsPort}`,
      '--stack',
      r.stackName,
    ];
    // As the SDK does: PULUMI_DEBUG_COMMANDS is what makes the CLI accept --event-log.
    await runCommand(r.command)(args, r.workDir, { PULUMI_DEBUG_COMMANDS: 'true', ...r.env }, undefined, undefined, r.signal);
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    // As Stack.up does: the language server checks for leaked promises of a program that succeeded.
    try {
      languageServer.onPulumiExit(failed);
    } finally {
      language.forceShutdown();
      events.forceShutdown();
    }
  }
  return { outputs: captured.outputs, secretOutputs: [...captured.secret], changes };
}

/** The program, remembering the values (and secrecy) of the outputs it returns as they resolve. */
export function capturingProgram(program: PulumiFn): { program: PulumiFn; outputs: Record<string, unknown>; secret: Set<string> } {
  const outputs: Record<string, unknown> = {};
  const secret = new Set<string>();
  const wrapped: PulumiFn = async () => {
    const returned = ((await program()) ?? {}) as Record<string, unknown>;
    for (const [name, value] of Object.entries(returned)) {
      if (pulumi.Output.isInstance(value)) {
        // unsecret: the value itself; isSecret: whether the checkpoint keeps it encrypted.
        pulumi.unsecret(value).apply((v) => (outputs[name] = v));
        void pulumi.isSecret(value).then((s) => (s ? secret.add(name) : undefined));
      } else outputs[name] = value;
    }
    return returned;
  };
  return { program: wrapped, outputs, secret };
}

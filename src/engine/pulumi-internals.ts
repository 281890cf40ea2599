/**
 * The parts of @pulumi/pulumi's Automation API that it does not export but that its own
 * `Stack.up` is made of: the in-process language server that runs an inline program, the gRPC
 * service the engine streams its events to, and `PulumiCommand.run`. deployer runs an operation
 * from these pieces (operation.ts) so that it makes one CLI call where `Stack.up` makes five
 * (select, up, two of outputs, history). @pulumi/pulumi is pinned to one version (package.json), and
 * pulumi-internals.test.ts fails when an upgrade moves any of them.
 */
import { createRequire } from 'node:module';
import { PulumiCommand, type EngineEvent, type PulumiFn } from '@pulumi/pulumi/automation/index.js';

// Resolved as @pulumi/pulumi resolves them: the same gRPC and protobuf modules it runs on.
const require = createRequire(createRequire(import.meta.url).resolve('@pulumi/pulumi/package.json'));

/** The slice of @grpc/grpc-js used here. */
export interface GrpcServer {
  addService(service: unknown, implementation: object): void;
  bindAsync(address: string, credentials: unknown, done: (err: Error | null, port: number) => void): void;
  forceShutdown(): void;
}

interface Grpc {
  Server: new (options: Record<string, unknown>) => GrpcServer;
  ServerCredentials: { createInsecure(): unknown };
}

interface LanguageServerClass {
  new (program: PulumiFn): { onPulumiExit(hasError: boolean): void };
}

/** What `PulumiCommand.run` resolves to. */
export interface CommandOutcome {
  stdout: string;
  stderr: string;
  code: number;
}

type RunCommand = (
  args: string[],
  cwd: string,
  env: Record<string, string>,
  onOutput?: (data: string) => void,
  onError?: (data: string) => void,
  signal?: AbortSignal,
) => Promise<CommandOutcome>;

export const grpc = require('@grpc/grpc-js') as Grpc;
export const LanguageServer = (require('./automation/server.js') as { LanguageServer: LanguageServerClass }).LanguageServer;
export const languageService = (require('./proto/language_grpc_pb.js') as { LanguageRuntimeService: unknown }).LanguageRuntimeService;
export const eventsService = (require('./proto/events_grpc_pb.js') as { EventsService: unknown }).EventsService;
/** The options the SDK gives its own gRPC servers (a 400 MB message limit, a long idle time). */
export const grpcServerOptions = (require('./runtime/settings.js') as { grpcChannelOptions: Record<string, unknown> }).grpcChannelOptions;

/**
 * The CLI at `binary` as a PulumiCommand, made as `PulumiCommand.get` makes it but without its
 * `pulumi version` call (a CLI process, ~0.35 s before the first operation): the version was
 * checked when the CLI was provisioned (pulumi-cli.ts).
 */
export function pulumiCommandAt(binary: string, version: string): PulumiCommand {
  const semver = require('semver') as { parse(v: string): unknown };
  const Command = PulumiCommand as unknown as new (command: string, version: unknown) => PulumiCommand;
  return new Command(binary, semver.parse(version));
}

/** `PulumiCommand.run`: the CLI with `--non-interactive`, its plugins on PATH, failures as CommandError. */
export function runCommand(command: PulumiCommand): RunCommand {
  const run = (command as unknown as { run: RunCommand }).run;
  return run.bind(command);
}

/** A gRPC server on an ephemeral loopback port. */
export async function listen(server: GrpcServer): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
}

/** The engine's event stream (what the SDK's EventsServer does): one JSON event per message. */
export function eventsImplementation(onEvent: (e: EngineEvent) => void, onBadEvent: (text: string) => void): object {
  return {
    streamEvents(
      call: { on(event: string, listener: (arg: { getEvent(): string } & Error) => void): void },
      done: (err: Error | null, reply: unknown) => void,
    ) {
      call.on('data', (request) => {
        const text = request.getEvent();
        let event: EngineEvent;
        try {
          event = JSON.parse(text) as EngineEvent;
        } catch {
          onBadEvent(text);
          return;
        }
        onEvent(event);
      });
      call.on('end', () => done(null, new Empty()));
      call.on('error', (err) => done(err, null));
    },
  };
}

const Empty = (require('google-protobuf/google/protobuf/empty_pb.js') as { Empty: new () => unknown }).Empty;

// The Automation API pieces operation.ts is made of are not exported by @pulumi/pulumi: an
// upgrade that moves or renames one must fail here, by name, not as a broken apply.
import { describe, expect, it } from 'vitest';
import {
  eventsImplementation,
  eventsService,
  grpc,
  grpcServerOptions,
  LanguageServer,
  languageService,
  listen,
  pulumiCommandAt,
} from './pulumi-internals.js';

describe('the Automation API internals deployer runs an operation with', () => {
  it('are where @pulumi/pulumi 3.259 keeps them', () => {
    expect(typeof LanguageServer).toBe('function');
    expect(new LanguageServer(async () => ({}))).toHaveProperty('onPulumiExit');
    expect(languageService).toHaveProperty('run');
    expect(eventsService).toHaveProperty('streamEvents');
    expect(grpcServerOptions).toHaveProperty(['grpc.max_receive_message_length']);
    const command = pulumiCommandAt('/opt/pulumi/bin/pulumi', '3.259.0');
    expect(command.command).toBe('/opt/pulumi/bin/pulumi');
    expect(String(command.version)).toBe('3.259.0');
  });

  it('serve on an ephemeral loopback port and pass parsed events on', async () => {
    const server = new grpc.Server(grpcServerOptions);
    const seen: unknown[] = [];
    const bad: string[] = [];
    const impl = eventsImplementation(
      (e) => seen.push(e),
      (t) => bad.push(t),
    ) as { streamEvents(call: unknown, done: (err: Error | null, reply: unknown) => void): void };
    server.addService(eventsService, impl);
    try {
      expect(await listen(server)).toBeGreaterThan(0);
    } finally {
      server.forceShutdown();
    }
    // The stream as the engine sends it: two events, one of them not JSON, then the end.
    const handlers = new Map<string, (arg: unknown) => void>();
    let ended: unknown;
    impl.streamEvents({ on: (event: string, listener: (arg: unknown) => void) => handlers.set(event, listener) }, (err, reply) => {
      ended = err ?? reply;
    });
    handlers.get('data')!({ getEvent: () => JSON.stringify({ sequence: 1, summaryEvent: { resourceChanges: { create: 1 } } }) });
    handlers.get('data')!({ getEvent: () => 'not json' });
    handlers.get('end')!(undefined);
    expect(seen).toEqual([{ sequence: 1, summaryEvent: { resourceChanges: { create: 1 } } }]);
    expect(bad).toEqual(['not json']);
    expect(ended).toBeDefined();
  });
});

/** Ports on this machine: who listens (this very process, seen through /proc), and allocation from a range. */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { DesiredComponent } from '../../model/desired.js';
import { allocatePort, describeHolder, listenerOn } from './ports.js';
import { portProblems } from './preflight.js';
import { registryOf } from './registry.js';

async function listening(port = 0): Promise<net.Server & { port: number }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return Object.assign(server, { port: (server.address() as net.AddressInfo).port });
}
const close = (s: net.Server): Promise<void> => new Promise((resolve) => s.close(() => resolve()));

const service = (id: string, port: unknown): DesiredComponent =>
  ({ id, kind: 'MicroService', service: id.split('/')[0], name: id.split('/')[1], spec: { port } }) as unknown as DesiredComponent;

describe('ports of the local target', () => {
  it('names the process that listens on a port, and nothing once it closed', async () => {
    const server = await listening();
    const holder = await listenerOn(server.port);
    expect(holder?.pid).toBe(process.pid);
    expect(describeHolder(server.port, holder!)).toMatch(
      new RegExp(`^port ${server.port} is already in use by process ${process.pid} \\(.*node`),
    );
    expect(describeHolder(1, {})).toBe('port 1 is already in use by another program');
    await close(server);
    expect(await listenerOn(server.port)).toBeUndefined();
  });

  it('allocates a port of the range that nothing listens on and nobody else asked for, never the same twice', async () => {
    const a = await listening();
    const base = a.port;
    await close(a);
    const busy = await listening(base);
    // A range of three: one taken by a listener, one to avoid, so only the third is left.
    const port = await allocatePort([base, base + 2], new Set([base + 1]));
    expect(port).toBe(base + 2);
    await expect(allocatePort([base, base + 2], new Set([base + 1]))).rejects.toThrow(/no free port in .* for port: auto/);
    await close(busy);
  });

  it('preflight: a port held by another program, and two components asking for one port, are each named', async () => {
    const server = await listening();
    const problems = await portProblems(
      [
        { component: service('web/api', server.port) },
        { component: service('web/admin', 'auto'), recorded: { port: server.port } },
        { component: service('web/free', 'auto') },
      ],
      () => '/nonexistent',
    );
    expect(problems).toEqual([
      expect.stringMatching(new RegExp(`^web/api: port ${server.port} is already in use by process ${process.pid}`)),
      `web/admin and web/api both ask for port ${server.port}`,
    ]);
    await close(server);
  });

  it('the registry names each deployed component with an endpoint and the variable its dependents read', () => {
    const registry = registryOf(
      {
        stack: 's',
        environment: 'dev',
        components: {
          'web/api': { kind: 'MicroService', status: 'deployed', outputs: { url: 'http://127.0.0.1:1', port: 1 } },
          'web/broken': { kind: 'MicroService', status: 'create-failed', outputs: {} },
          'store/files': { kind: 'S3', status: 'deployed', outputs: { bucketName: 'b' } },
        },
      } as never,
      new Date('2026-12-06T00:00:00Z'),
    );
    expect(registry).toEqual({
      stack: 's',
      environment: 'dev',
      updatedAt: '2026-12-06T00:00:00.000Z',
      services: {
        'store/files': { kind: 'S3' },
        'web/api': { kind: 'MicroService', url: 'http://127.0.0.1:1', port: 1, variable: 'DEPLOYER_SERVICE_WEB_API_URL' },
      },
    });
  });
});

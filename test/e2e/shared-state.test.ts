/**
 * A team's setup, for real: state in S3 (s3rver), locks in DynamoDB (dynalite), Pulumi's
 * checkpoints in the same bucket, and runs that die. A run killed mid-apply is taken over
 * after its lease expires and the next run converges with the history intact; a run whose
 * lease renewal fails stops before the next run starts work.
 */
import net from 'node:net';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopLeftovers } from '../../src/engine/index.js';
import { deployer, deployerJson, spawnDeployer } from '../helpers/cli.js';
import { EMULATOR_CREDENTIALS, startDynamoDb, startS3, type DynamoDbEmulator, type S3Emulator } from '../helpers/emulators.js';
import { getJson } from '../helpers/http.js';
import { s3Client } from '../../src/util/aws.js';
import { editFile, freePort, removeTestdirs, repoRoot, testdir } from '../helpers/testdir.js';

let s3: S3Emulator;
let dynamo: DynamoDbEmulator;
let dir: string;
let backends: string[];
const ports: Record<string, number> = {};
const env = { ...EMULATOR_CREDENTIALS, PULUMI_CONFIG_PASSPHRASE: 'shared-state-test' };
const args = (...a: string[]): string[] => [...a, '-C', dir, '-e', 'test', ...backends];

interface ApplyJson {
  ok: boolean;
  summary: { counts: Record<string, number>; components: Array<{ id: string; result: string }> };
}

beforeAll(async () => {
  Object.assign(process.env, env);
  [s3, dynamo] = await Promise.all([startS3(), startDynamoDb()]);
  backends = ['--state-url', await s3.stateUrl('team-state', 'deployer'), '--lock-url', await dynamo.lockUrl('deployer-state-locks')];
  ports['API'] = await freePort();
  ports['WORKER'] = await freePort();
  dir = testdir('chain', {
    PORT_API: String(ports['API']),
    PORT_WORKER: String(ports['WORKER']),
    ECHO_SERVER: path.join(repoRoot, 'test/fixtures/apps/echo-server.mjs'),
  });
});

afterAll(async () => {
  await deployer(args('destroy', '--yes', '--lock-timeout', '30s'));
  await Promise.all([s3.close(), dynamo.close()]);
  removeTestdirs();
});

/** A TCP relay to the DynamoDB emulator that can be cut, as a network partition would. */
async function relay(target: string): Promise<{ endpoint: string; cut: () => void }> {
  const { port } = new URL(target);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

describe('shared state in S3 with DynamoDB locks', () => {
  it('a run killed mid-apply is taken over after its lease, resumed and converged, history intact', async () => {
    // As on another CI runner: this host cannot tell whether that run is alive, so the lease must expire.
    const first = spawnDeployer(args('apply', '--yes', '--lock-ttl', '10s'), { ...env, DEPLOYER_INITIATOR: 'ci@runner-1' });
    await first.waitFor('create pulumi-nodejs:dynamic/local:MicroService api', 120_000);
    const dead = (await deployerJson<{ locks: Array<{ metadata: { deployment_id: string } }> }>(args('lock', 'status'))).json.locks[0]!
      .metadata.deployment_id;
    first.child.kill('SIGKILL');
    await first.exit;

    const second = await deployerJson<ApplyJson>(args('apply', '--yes', '--lock-timeout', '60s'));
    expect(second.code, second.stderr).toBe(0);
    // "Another runner" is this host in disguise: its leftovers are not this run's to stop (its
    // holder is not known dead here), so the test stops them, as that runner's end would.
    expect(second.stderr).not.toMatch(/stopped \d+ process\(es\) the dead run/);
    await stopLeftovers(dead);
    expect(second.stderr).toMatch(/waiting for the lock stack:chain:env:test, held by ci@runner-1 since/);
    expect(second.stderr).toMatch(/Took over the lock of ci@runner-1 \(lock id [0-9a-f-]{36}, apply since/);
    expect(second.json.summary.counts).toMatchObject({ failed: 0, skipped: 0 });
    expect(await getJson(ports['API']!)).toMatchObject({ version: 'api-1' });
    expect(await getJson(ports['WORKER']!)).toMatchObject({ version: 'worker-1' });

    const history = await deployerJson<{ versions: Array<{ serial: number; current: boolean; components: number }> }>(
      args('state', 'history'),
    );
    const serials = history.json.versions.map((v) => v.serial).sort((a, b) => a - b);
    expect(serials).toEqual(Array.from({ length: serials.length }, (_, i) => i + 1));
    expect(history.json.versions[0]).toMatchObject({ current: true, components: 3 });
    expect((await deployerJson<{ locks: unknown[] }>(args('lock', 'status'))).json.locks).toEqual([]);
    // Pulumi's checkpoints are in the same bucket, beside the state.
    const objects = await (
      await s3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true })
    ).send(new ListObjectsV2Command({ Bucket: 'team-state', Prefix: 'deployer/stacks/chain/test/pulumi/.pulumi/stacks/deployer/' }));
    expect(
      (objects.Contents ?? [])
        .map((o) => path.basename(o.Key!))
        .filter((k) => !k.endsWith('.bak'))
        .sort(),
    ).toEqual(['chain.test.app.api.json', 'chain.test.app.worker.json', 'chain.test.data.files.json']);
  });

  it('a run killed on this host is taken over at once: its process is known to be gone', async () => {
    editFile(path.join(dir, 'services/app/worker.yaml'), 'VERSION: worker-1', 'VERSION: worker-1b');
    const first = spawnDeployer(args('apply', '--yes'), env);
    await first.waitFor('update started', 120_000);
    first.child.kill('SIGKILL');
    await first.exit;
    const second = await deployerJson<ApplyJson>(args('apply', '--yes'));
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/waiting for the lock/);
    expect(second.stderr).toMatch(/Took over the lock of \S+ \(lock id [0-9a-f-]{36}, apply since/);
    expect(await getJson(ports['WORKER']!)).toMatchObject({ version: 'worker-1b' });
  });

  it('a run whose lease renewal fails stops starting work before the next run takes over', async () => {
    editFile(path.join(dir, 'services/app/api.yaml'), 'VERSION: api-1', 'VERSION: api-2');
    editFile(path.join(dir, 'services/app/worker.yaml'), 'VERSION: worker-1b', 'VERSION: worker-2');
    const partition = await relay(dynamo.endpoint);
    const cutOff = backends.map((b) =>
      b.startsWith('dynamodb://') ? b.replace(encodeURIComponent(dynamo.endpoint), encodeURIComponent(partition.endpoint)) : b,
    );
    const a = spawnDeployer([...args('apply', '--yes', '--lock-ttl', '10s').filter((x) => !backends.includes(x)), ...cutOff], env);
    await a.waitFor('app/api', 60_000);
    await a.waitFor('update started', 60_000);
    partition.cut();
    await a.waitFor('starting no new component', 30_000);
    const lostAt = Date.now();

    const b = spawnDeployer(args('apply', '--yes', '--lock-timeout', '60s'), env);
    await b.waitFor('acquired', 60_000);
    const acquiredAt = Date.now();
    expect(acquiredAt).toBeGreaterThan(lostAt);

    expect(await a.exit).toBe(1);
    const aOut = a.output();
    expect(aOut).toMatch(/lost the lock stack:chain:env:test/);
    const afterLoss = aOut.slice(aOut.indexOf('starting no new component'));
    expect(afterLoss).not.toMatch(/update started|create started/);
    // One true thing about what happens to the running component: it is not recorded.
    expect(aOut).toMatch(
      /starting no new component and recording nothing more .*what is running finishes unrecorded, and the next run checks it again/,
    );
    expect(aOut).not.toMatch(/finish and are recorded/);
    expect(await b.exit, b.output()).toBe(0);
    expect(await getJson(ports['API']!)).toMatchObject({ version: 'api-2' });
    expect(await getJson(ports['WORKER']!)).toMatchObject({ version: 'worker-2' });
  });
});

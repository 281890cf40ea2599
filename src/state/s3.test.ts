/** The S3 StateStore against s3rver on loopback: the shared contract, then what is S3's own. */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3, type S3Emulator } from '../../test/helpers/emulators.js';
import { InvalidInputError, StateCorruptError } from '../errors.js';
import { sha256 } from '../model/hash.js';
import { emptyState, openStateStore } from './index.js';
import { parseS3Url, s3Client, S3Blobs, S3StateStore, type S3StoreOptions } from './s3.js';
import { stateStoreContract, withComponent } from './store.contract.js';

let s3: S3Emulator;
let bucketNo = 0;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3.close();
});

/** A store on a new bucket, with a client that records every request it sends. */
async function freshStore(options: S3StoreOptions = {}): Promise<{
  store: S3StateStore;
  sent: Array<{ name: string; input: Record<string, unknown> }>;
  bucket: string;
  blobs: S3Blobs;
  withClock: (now: () => Date) => S3StateStore;
}> {
  const bucket = `state-${++bucketNo}-${process.pid}`;
  const loc = parseS3Url(await s3.stateUrl(bucket, 'teams/platform'));
  const client = await s3Client(loc);
  const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push({ name: context.commandName ?? '?', input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize' },
  );
  return {
    store: new S3StateStore(loc, client, options),
    sent,
    bucket,
    blobs: new S3Blobs(loc, client, 1),
    withClock: (now) => new S3StateStore(loc, client, { ...options, now }),
  };
}

stateStoreContract('s3 (s3rver)', async () => freshStore({ digestAttempts: 2, retryDelayMs: 10 }));

describe('S3StateStore', () => {
  it('lays out the keys under the prefix and requests server-side encryption on every put', async () => {
    const { store, sent, bucket } = await freshStore();
    const v1 = await store.write(withComponent(emptyState('web', 'prod'), 'api', 'd1'));
    await store.write(withComponent(v1, 'api', 'd2'));
    const client = await s3Client(parseS3Url(await s3.stateUrl(bucket)));
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual([
      'teams/platform/stacks/web/prod/history/1.json',
      'teams/platform/stacks/web/prod/history/1.json.sha256',
      'teams/platform/stacks/web/prod/state.json',
      'teams/platform/stacks/web/prod/state.json.sha256',
    ]);
    const puts = sent.filter((s) => s.name === 'PutObjectCommand');
    // Two writes: the first its digest and body (and digest again), the second history (2) too.
    expect(puts.length).toBe(8);
    for (const p of puts) expect(p.input['ServerSideEncryption']).toBe('AES256');
  });

  it('asks for KMS encryption with the key the URL names', async () => {
    const { sent } = await freshStore();
    const loc = parseS3Url('s3://b/p?region=eu-west-1&sse=aws:kms&kmsKeyId=alias/deployer');
    expect(loc).toMatchObject({ sse: 'aws:kms', kmsKeyId: 'alias/deployer', region: 'eu-west-1', forcePathStyle: false });
    expect(sent).toEqual([]);
  });

  it('refuses a state whose digest does not match, after retrying, and changes nothing', async () => {
    const { store, bucket } = await freshStore({ retryDelayMs: 10 });
    await store.write(withComponent(emptyState('web', 'prod'), 'api'));
    const client = await s3Client(parseS3Url(await s3.stateUrl(bucket)));
    const key = 'teams/platform/stacks/web/prod/state.json';
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: '{"edited": "by hand"}' }));
    const err = await store.read('web', 'prod').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateCorruptError);
    expect((err as StateCorruptError).message).toMatch(/does not match its digest after 5 reads/);
    await expect(store.write(withComponent(emptyState('web', 'prod'), 'x'))).rejects.toBeInstanceOf(StateCorruptError);
    const body = await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
    expect(body).toBe('{"edited": "by hand"}');
  });

  it('waits out a stale read: a digest that catches up within the retries is accepted', async () => {
    const { store, bucket } = await freshStore({ retryDelayMs: 50 });
    const stored = await store.write(withComponent(emptyState('web', 'prod'), 'api'));
    const client = await s3Client(parseS3Url(await s3.stateUrl(bucket)));
    const key = 'teams/platform/stacks/web/prod/state.json.sha256';
    const good = await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: sha256('an older version') }));
    const reading = store.read('web', 'prod');
    setTimeout(() => void client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: good })), 120);
    expect(await reading).toEqual(stored);
  });

  it("points Pulumi's s3 backend at the same bucket, with the endpoint options of an S3 clone", async () => {
    const { store } = await freshStore();
    const url = new URL(store.pulumiBackend('web', 'prod'));
    expect(url.protocol).toBe('s3:');
    expect(url.pathname).toBe('/teams/platform/stacks/web/prod/pulumi');
    expect(url.searchParams.get('endpoint')).toBe(new URL(s3.endpoint).host);
    expect(url.searchParams.get('disableSSL')).toBe('true');
    expect(url.searchParams.get('s3ForcePathStyle')).toBe('true');
    expect(new S3StateStore(parseS3Url('s3://bucket/p?region=eu-west-1')).pulumiBackend('a', 'b')).toBe(
      's3://bucket/p/stacks/a/b/pulumi?region=eu-west-1',
    );
  });

  it('parses s3:// URLs and refuses what it does not know', () => {
    expect(parseS3Url('s3://my-bucket?region=us-east-2')).toMatchObject({
      bucket: 'my-bucket',
      prefix: '',
      region: 'us-east-2',
      sse: 'AES256',
    });
    expect(() => parseS3Url('s3://b/p?colour=blue')).toThrow(InvalidInputError);
    expect(() => parseS3Url('s3://b/p?sse=none')).toThrow(/use AES256 or aws:kms/);
    expect(openStateStore('s3://b/p?region=us-east-1', '/tmp')).toBeInstanceOf(S3StateStore);
  });
});

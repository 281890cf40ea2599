import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as bucket from './bucket.js';
import * as runtime from './runtime.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'deployer-bucket-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const inputs = (name: string, forceDestroy = false): bucket.BucketInputs => ({
  kind: 'S3',
  component: `web/${name}`,
  bucketName: name,
  path: path.join(root, name),
  versioning: false,
  forceDestroy,
});

describe('local S3 bucket', () => {
  it('is a directory that read reports while it exists', async () => {
    const { id, outs } = await bucket.create(inputs('assets'));
    expect(existsSync(id)).toBe(true);
    expect(outs).toMatchObject({ url: `file://${id}`, arn: 'arn:local:s3:::assets' });
    expect(await bucket.read(id, outs)).toEqual({ id, props: outs });
    rmSync(id, { recursive: true });
    expect(await bucket.read(id, outs)).toEqual({});
  });

  it('keeps its settings beside the directory, and read reports the settings on disk, not the recorded ones', async () => {
    const { id, outs } = await bucket.create({ ...inputs('settings'), versioning: true, publicAccess: false });
    const file = bucket.settingsFile(id);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ versioning: true, publicAccess: false });
    // No object of the bucket: an empty bucket still deletes without forceDestroy.
    expect(readdirSync(id)).toEqual([]);
    writeFileSync(file, JSON.stringify({ versioning: false, publicAccess: true }));
    expect(await bucket.read(id, outs)).toEqual({ id, props: { ...outs, versioning: false, publicAccess: true } });
    await bucket.remove(id, outs);
    expect(existsSync(id) || existsSync(file)).toBe(false);
  });

  it('a bucket made before its settings were kept reads as recorded', async () => {
    const { id, outs } = await bucket.create(inputs('older'));
    rmSync(bucket.settingsFile(id));
    expect(await bucket.read(id, outs)).toEqual({ id, props: outs });
  });

  it('refuses to delete a bucket that holds objects unless forceDestroy', async () => {
    const kept = await bucket.create(inputs('kept'));
    writeFileSync(path.join(kept.id, 'object.txt'), 'x');
    await expect(bucket.remove(kept.id, kept.outs)).rejects.toThrow(/not empty \(1 objects/);
    expect(existsSync(kept.id)).toBe(true);
    const forced = await bucket.create(inputs('forced', true));
    writeFileSync(path.join(forced.id, 'object.txt'), 'x');
    await bucket.remove(forced.id, forced.outs);
    expect(existsSync(forced.id)).toBe(false);
  });

  it('replaces on a new name or path, updates in place otherwise', () => {
    const i = inputs('diff');
    const outs = { ...i, url: '', arn: '' };
    expect(bucket.diff(outs, { ...i, versioning: true })).toEqual({ changes: true, replaces: [] });
    expect(bucket.diff(outs, { ...i, bucketName: 'other' }).replaces).toEqual(['bucketName']);
  });
});

describe('local runtime dispatch', () => {
  it('routes by kind, ignores the serialized provider and rejects unknown kinds', async () => {
    const i = { ...inputs('dispatch'), __provider: 'serialized code' };
    const created = await runtime.create(i);
    expect(created.outs).not.toHaveProperty('__provider');
    const d = await runtime.diff(created.id, { ...(created.outs as object), kind: 'S3' }, { ...i, versioning: true });
    expect(d).toEqual({ changes: true, replaces: [], deleteBeforeReplace: true });
    await runtime.remove(created.id, { ...(created.outs as object), kind: 'S3' });
    expect(existsSync(created.id)).toBe(false);
    await expect(runtime.create({ kind: 'Kafka' })).rejects.toThrow(/cannot deploy kind Kafka/);
  });
});

/**
 * The `local` S3 bucket: a directory. Delete refuses a bucket that still holds objects unless
 * `forceDestroy` is set, as S3 does; read reports whether the directory really exists.
 */
import { promises as fs } from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface BucketInputs {
  kind: 'S3';
  component: string;
  bucketName: string;
  path: string;
  versioning: boolean;
  forceDestroy: boolean;
}

export interface BucketOutputs extends BucketInputs {
  url: string;
  arn: string;
}

function outputs(inputs: BucketInputs): BucketOutputs {
  return { ...inputs, url: pathToFileURL(inputs.path).href, arn: `arn:local:s3:::${inputs.bucketName}` };
}

export async function create(inputs: BucketInputs): Promise<{ id: string; outs: BucketOutputs }> {
  await fs.mkdir(inputs.path, { recursive: true });
  return { id: inputs.path, outs: outputs(inputs) };
}

export async function update(id: string, _olds: BucketOutputs, news: BucketInputs): Promise<{ outs: BucketOutputs }> {
  await fs.mkdir(id, { recursive: true });
  return { outs: outputs(news) };
}

export async function read(id: string, props: BucketOutputs): Promise<{ id?: string; props?: BucketOutputs }> {
  const st = await fs.stat(id).catch(() => undefined);
  return st?.isDirectory() ? { id, props } : {};
}

export async function remove(id: string, props: BucketOutputs): Promise<void> {
  const entries = await fs.readdir(id).catch(() => undefined);
  if (entries === undefined) return;
  if (entries.length > 0 && !props.forceDestroy) {
    throw new Error(
      `${props.component}: bucket ${props.bucketName} is not empty (${entries.length} objects in ${id}); empty it or set forceDestroy: true`,
    );
  }
  await fs.rm(id, { recursive: true, force: true });
}

export function diff(olds: BucketOutputs, news: BucketInputs): { changes: boolean; replaces: string[] } {
  const keys = Object.keys(news) as Array<keyof BucketInputs>;
  const changed = keys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
  return { changes: changed.length > 0, replaces: changed.filter((k) => k === 'path' || k === 'bucketName') };
}

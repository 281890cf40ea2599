/**
 * The `local` S3 bucket: a directory, and its settings (versioning, public access, encryption)
 * in a file beside it (`<dir>.settings.json`, so it is no object of the bucket). Delete refuses
 * a bucket that still holds objects unless `forceDestroy` is set, as S3 does; read reports
 * what is really there: whether the directory exists, and the settings its file holds now.
 */
import { promises as fs } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { readJson, writeJson } from './protocol.js';

export interface BucketInputs {
  kind: 'S3';
  component: string;
  bucketName: string;
  path: string;
  versioning: boolean;
  forceDestroy: boolean;
  /** Absent in buckets created before deployer kept it. */
  publicAccess?: boolean;
  encryption?: unknown;
}

/** The settings a bucket keeps on disk: what an S3 bucket's configuration holds. */
const SETTINGS = ['versioning', 'publicAccess', 'encryption'] as const;
type Settings = Partial<Pick<BucketInputs, (typeof SETTINGS)[number]>>;

export const settingsFile = (dir: string): string => `${dir}.settings.json`;

function settingsOf(inputs: BucketInputs): Settings {
  return Object.fromEntries(SETTINGS.filter((k) => inputs[k] !== undefined).map((k) => [k, inputs[k]]));
}

async function make(inputs: BucketInputs): Promise<void> {
  await fs.mkdir(inputs.path, { recursive: true });
  await writeJson(settingsFile(inputs.path), settingsOf(inputs));
}

export interface BucketOutputs extends BucketInputs {
  url: string;
  arn: string;
}

function outputs(inputs: BucketInputs): BucketOutputs {
  return { ...inputs, url: pathToFileURL(inputs.path).href, arn: `arn:local:s3:::${inputs.bucketName}` };
}

export async function create(inputs: BucketInputs): Promise<{ id: string; outs: BucketOutputs }> {
  await make(inputs);
  return { id: inputs.path, outs: outputs(inputs) };
}

export async function update(_id: string, _olds: BucketOutputs, news: BucketInputs): Promise<{ outs: BucketOutputs }> {
  await make(news);
  return { outs: outputs(news) };
}

/** What is there: nothing when the directory is gone; else the settings on disk (those of a bucket written before they were kept stay as recorded). */
export async function read(id: string, props: BucketOutputs): Promise<{ id?: string; props?: BucketOutputs }> {
  const st = await fs.stat(id).catch(() => undefined);
  if (!st?.isDirectory()) return {};
  const onDisk = await readJson<Settings>(settingsFile(id));
  if (!onDisk) return { id, props };
  const settings = Object.fromEntries(SETTINGS.map((k) => [k, onDisk[k]]).filter(([, v]) => v !== undefined));
  const { versioning: _v, publicAccess: _p, encryption: _e, ...rest } = props;
  return { id, props: { ...rest, ...settings } as BucketOutputs };
}

export async function remove(id: string, props: BucketOutputs): Promise<void> {
  const entries = await fs.readdir(id).catch(() => undefined);
  if (entries === undefined) return void (await fs.rm(settingsFile(id), { force: true }));
  if (entries.length > 0 && !props.forceDestroy) {
    throw new Error(
      `${props.component}: bucket ${props.bucketName} is not empty (${entries.length} objects in ${id}); empty it or set forceDestroy: true`,
    );
  }
  await fs.rm(id, { recursive: true, force: true });
  await fs.rm(settingsFile(id), { force: true });
}

export function diff(olds: BucketOutputs, news: BucketInputs): { changes: boolean; replaces: string[] } {
  const keys = Object.keys(news) as Array<keyof BucketInputs>;
  const changed = keys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
  return { changes: changed.length > 0, replaces: changed.filter((k) => k === 'path' || k === 'bucketName') };
}

/**
 * state/: where a stack's state lives (StateStore), chosen by URL. `file://` is the default;
 * `s3://` shares it between CI runners and laptops. Also: creating an empty state.
 */
import { randomUUID } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import { STATE_VERSION, type StackState } from '../model/state.js';
import { backendFlags } from '../util/cli-flags.js';
import { fileUrlToDir } from '../util/file-url.js';
import type { BlobStore } from './blobs.js';
import { FileBlobs, FileStateStore } from './file.js';
import { parseS3Url, S3Blobs, S3StateStore } from './s3.js';
import type { StateStore } from './store.js';

export type { StateStore, HistoryEntry, RestoreResult } from './store.js';
export type { BlobStore, BlobEntry } from './blobs.js';
export { StateConflictError } from './conflict.js';

/** Opens the store a URL names; relative `file:` paths resolve against `baseDir` (the stack directory). */
export function openStateStore(url: string, baseDir: string, cwd = process.cwd()): StateStore {
  const store = openStore(url, baseDir);
  store.cliFlags = backendFlags('--state-url', url, baseDir, cwd);
  return store;
}

function openStore(url: string, baseDir: string): StateStore {
  if (url.startsWith('file://') || !url.includes('://')) return new FileStateStore(fileUrlToDir(url, baseDir));
  if (url.startsWith('s3://')) return new S3StateStore(parseS3Url(url));
  throw unsupported(url);
}

/** The objects of the backend a state URL names, beside the state (the build cache lives there). */
export function openBlobStore(url: string, baseDir: string): BlobStore {
  if (url.startsWith('file://') || !url.includes('://')) return new FileBlobs(fileUrlToDir(url, baseDir));
  if (url.startsWith('s3://')) return new S3Blobs(parseS3Url(url));
  throw unsupported(url);
}

function unsupported(url: string): InvalidInputError {
  return new InvalidInputError(`unsupported state backend URL: ${url}`, [
    'supported: file://<dir> (relative to the stack directory), s3://<bucket>/<prefix>?region=<region>[&endpoint=<url>&forcePathStyle=true&sse=aws:kms&kmsKeyId=<key>]',
  ]);
}

export function emptyState(stack: string, environment: string): StackState {
  return { version: STATE_VERSION, lineage: randomUUID(), serial: 0, stack, environment, components: {} };
}

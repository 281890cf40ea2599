/**
 * The one thing a state backend has to provide: a few named byte objects. Terraform splits its
 * remote state the same way (a tiny client per backend, versioning once above it): the serials,
 * lineage, digests, history and retention live in `versioned.ts`, so a new backend is one small
 * file implementing this interface, checked by the same contract suite as the others.
 */

/** One object as a listing shows it. */
export interface BlobEntry {
  /** Its key relative to the store's root, e.g. `stacks/web/prod/history/3.json`. */
  key: string;
  /** When it was last written (the history's age, for retention). */
  modified: Date;
}

/** A backend's objects, by key: what a new state backend implements (versioned.ts does the rest). */
export interface BlobStore {
  /** Where the objects are, for messages (e.g. `file:///srv/app/.deployer`). */
  readonly url: string;
  /** The directory when it is this machine's disk (the generated Pulumi passphrase is kept there). */
  readonly localRoot?: string;
  /** How many times a read whose digest does not match is tried again (S3 may serve a stale object). */
  readonly staleReadAttempts: number;
  /** Pulumi's backend URL for the components' checkpoints, `stacks/{stack}/{env}/pulumi/` beside the state. */
  pulumiBackend(stack: string, env: string): string;
  /** A human name of one object for messages (a path or an s3:// URL). */
  where(key: string): string;
  /** The bytes of `key`, or undefined when there is no such object. */
  get(key: string): Promise<Buffer | undefined>;
  /** Writes `key` whole: a reader sees the old bytes or the new ones, never part of them. */
  put(key: string, body: string | Buffer): Promise<void>;
  /** Removes `key`; removing what is not there is not an error. */
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix`. */
  list(prefix: string): Promise<BlobEntry[]>;
}

/**
 * The state in an S3 bucket, under `{prefix}/`: every object written with server-side
 * encryption. S3 may serve a stale object and some S3 clones ignore conditional headers, so
 * consistency comes from the lock, and a read whose digest does not match is read again a few
 * times (versioned.ts) instead of being trusted.
 */
import type { PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import { InvalidInputError } from '../errors.js';
import { s3Client, s3Sdk } from '../util/aws.js';
import type { BlobEntry, BlobStore } from './blobs.js';
import { VersionedStateStore } from './versioned.js';

export { s3Client };

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slash ('' for the bucket root). */
  prefix: string;
  region: string;
  /** Custom endpoint (an S3 clone, or s3rver in tests), e.g. http://127.0.0.1:4569 */
  endpoint?: string;
  forcePathStyle: boolean;
  /** Server-side encryption requested on every put. */
  sse: 'AES256' | 'aws:kms';
  kmsKeyId?: string;
}

/** `s3://bucket/prefix?region=us-east-1&endpoint=http://127.0.0.1:4569&forcePathStyle=true&sse=aws:kms&kmsKeyId=...` */
export function parseS3Url(url: string): S3Location {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidInputError(`invalid state URL ${url}`, ['expected s3://<bucket>/<prefix>?region=<region>']);
  }
  if (u.protocol !== 's3:' || !u.hostname) throw new InvalidInputError(`invalid state URL ${url}: expected s3://<bucket>/<prefix>`);
  const q = u.searchParams;
  const known = new Set(['region', 'endpoint', 'forcePathStyle', 'sse', 'kmsKeyId']);
  const unknown = [...q.keys()].filter((k) => !known.has(k));
  if (unknown.length > 0)
    throw new InvalidInputError(`unknown option ${unknown.join(', ')} in state URL ${url}`, [`known: ${[...known].join(', ')}`]);
  const sse = q.get('sse') ?? 'AES256';
  if (sse !== 'AES256' && sse !== 'aws:kms') throw new InvalidInputError(`invalid sse=${sse} in state URL: use AES256 or aws:kms`);
  const endpoint = q.get('endpoint') ?? undefined;
  return {
    bucket: u.hostname,
    prefix: decodeURIComponent(u.pathname).replace(/^\/+|\/+$/g, ''),
    region: q.get('region') ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: (q.get('forcePathStyle') ?? (endpoint ? 'true' : 'false')) === 'true',
    sse,
    ...(q.get('kmsKeyId') ? { kmsKeyId: q.get('kmsKeyId')! } : {}),
  };
}

export interface S3StoreOptions {
  /** Reads of a state whose digest does not match before giving up (S3 may serve a stale object). */
  digestAttempts?: number;
  retryDelayMs?: number;
  now?: () => Date;
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

/** Objects under the URL's prefix in its bucket. */
export class S3Blobs implements BlobStore {
  readonly url: string;
  readonly staleReadAttempts: number;
  private readonly client: Promise<S3Client>;

  constructor(
    private readonly loc: S3Location,
    client?: S3Client,
    digestAttempts = 5,
  ) {
    this.client = client ? Promise.resolve(client) : s3Client(loc);
    // An unused store must not leave an unhandled rejection behind.
    this.client.catch(() => undefined);
    this.url = `s3://${loc.bucket}/${loc.prefix}`;
    this.staleReadAttempts = digestAttempts;
  }

  private fullKey(key: string): string {
    return [this.loc.prefix, key].filter(Boolean).join('/');
  }

  where(key: string): string {
    return `s3://${this.loc.bucket}/${this.fullKey(key)}`;
  }

  /** Pulumi's own s3:// backend, pointed at the same bucket (endpoint options for S3 clones). */
  pulumiBackend(stack: string, env: string): string {
    const q = new URLSearchParams({ region: this.loc.region });
    if (this.loc.endpoint) {
      const e = new URL(this.loc.endpoint);
      q.set('endpoint', e.host);
      if (e.protocol === 'http:') q.set('disableSSL', 'true');
    }
    if (this.loc.forcePathStyle) q.set('s3ForcePathStyle', 'true');
    return `s3://${this.loc.bucket}/${this.fullKey(`stacks/${stack}/${env}/pulumi`)}?${q.toString()}`;
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const { GetObjectCommand } = await s3Sdk();
      const r = await (await this.client).send(new GetObjectCommand({ Bucket: this.loc.bucket, Key: this.fullKey(key) }));
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async put(key: string, body: string | Buffer): Promise<void> {
    const input: PutObjectCommandInput = {
      Bucket: this.loc.bucket,
      Key: this.fullKey(key),
      Body: body,
      ContentType: 'application/json',
      ServerSideEncryption: this.loc.sse,
      ...(this.loc.sse === 'aws:kms' && this.loc.kmsKeyId ? { SSEKMSKeyId: this.loc.kmsKeyId } : {}),
    };
    const { PutObjectCommand } = await s3Sdk();
    await (await this.client).send(new PutObjectCommand(input));
  }

  async delete(key: string): Promise<void> {
    const { DeleteObjectCommand } = await s3Sdk();
    await (await this.client).send(new DeleteObjectCommand({ Bucket: this.loc.bucket, Key: this.fullKey(key) }));
  }

  async list(prefix: string): Promise<BlobEntry[]> {
    const full = this.fullKey(prefix);
    const strip = full.length - prefix.length;
    const out: BlobEntry[] = [];
    const { ListObjectsV2Command } = await s3Sdk();
    const client = await this.client;
    let token: string | undefined;
    do {
      const r = await client.send(
        new ListObjectsV2Command({ Bucket: this.loc.bucket, Prefix: full, ...(token ? { ContinuationToken: token } : {}) }),
      );
      for (const o of r.Contents ?? []) if (o.Key) out.push({ key: o.Key.slice(strip), modified: o.LastModified ?? new Date(0) });
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out;
  }
}

export class S3StateStore extends VersionedStateStore {
  constructor(loc: S3Location, client?: S3Client, options: S3StoreOptions = {}) {
    super(new S3Blobs(loc, client, options.digestAttempts), {
      ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
  }
}

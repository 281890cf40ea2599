/**
 * StateStore in an S3 bucket: `{prefix}/stacks/{stack}/{env}/state.json`, `history/{serial}.json`
 * and `state.json.sha256`, every object written with server-side encryption. S3 may serve a
 * stale object and some S3 clones ignore conditional headers, so consistency comes from the
 * lock, and a read checks the digest (retrying briefly) instead of trusting what it got.
 */
import type { PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import { InvalidInputError, StateCorruptError } from '../errors.js';
import { sha256 } from '../model/hash.js';
import type { StackState } from '../model/state.js';
import { s3Client, s3Sdk } from '../util/aws.js';

export { s3Client };
import { parseState } from './codec.js';
import { checkSuccessor } from './conflict.js';
import { prunableHistory, type HistoryEntry, type StateStore } from './store.js';

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
  if (unknown.length > 0) throw new InvalidInputError(`unknown option ${unknown.join(', ')} in state URL ${url}`, [`known: ${[...known].join(', ')}`]);
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
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

export class S3StateStore implements StateStore {
  readonly url: string;
  private readonly attempts: number;
  private readonly retryDelayMs: number;

  private readonly client: Promise<S3Client>;

  constructor(
    private readonly loc: S3Location,
    client?: S3Client,
    options: S3StoreOptions = {},
  ) {
    this.client = client ? Promise.resolve(client) : s3Client(loc);
    // An unused store must not leave an unhandled rejection behind.
    this.client.catch(() => undefined);
    this.url = `s3://${loc.bucket}/${loc.prefix}`;
    this.attempts = options.digestAttempts ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 200;
  }

  private key(stack: string, env: string, rest: string): string {
    return [this.loc.prefix, 'stacks', stack, env, rest].filter(Boolean).join('/');
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
    return `s3://${this.loc.bucket}/${this.key(stack, env, 'pulumi')}?${q.toString()}`;
  }

  private async get(key: string): Promise<Buffer | undefined> {
    try {
      const { GetObjectCommand } = await s3Sdk();
      const r = await (await this.client).send(new GetObjectCommand({ Bucket: this.loc.bucket, Key: key }));
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async put(key: string, body: string): Promise<void> {
    const input: PutObjectCommandInput = {
      Bucket: this.loc.bucket,
      Key: key,
      Body: body,
      ContentType: 'application/json',
      ServerSideEncryption: this.loc.sse,
      ...(this.loc.sse === 'aws:kms' && this.loc.kmsKeyId ? { SSEKMSKeyId: this.loc.kmsKeyId } : {}),
    };
    const { PutObjectCommand } = await s3Sdk();
    await (await this.client).send(new PutObjectCommand(input));
  }

  async read(stack: string, env: string): Promise<StackState | undefined> {
    const stateKey = this.key(stack, env, 'state.json');
    let last = { expected: '', actual: '' };
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      const [body, digest] = await Promise.all([this.get(stateKey), this.get(`${stateKey}.sha256`)]);
      if (body === undefined && digest === undefined) return undefined;
      const expected = digest?.toString('utf8').trim() ?? '(digest missing)';
      const actual = body === undefined ? '(state missing)' : sha256(body);
      if (body !== undefined && expected === actual) return parseState(body, `s3://${this.loc.bucket}/${stateKey}`);
      last = { expected, actual };
      if (attempt < this.attempts) await new Promise((r) => setTimeout(r, this.retryDelayMs * attempt));
    }
    throw new StateCorruptError(`state s3://${this.loc.bucket}/${stateKey} does not match its digest after ${this.attempts} reads`, [
      `expected sha256 ${last.expected}, found ${last.actual}`,
      'S3 kept serving a stale object, or a write was interrupted. deployer will not act on it.',
      'Previous versions are listed by `deployer state history`; restore one with `deployer state rollback --to <serial>`.',
    ]);
  }

  async write(next: StackState): Promise<StackState> {
    const current = await this.read(next.stack, next.environment);
    checkSuccessor(current, next);
    if (current) await this.put(this.key(next.stack, next.environment, `history/${current.serial}.json`), JSON.stringify(current, null, 2));
    const stored: StackState = { ...next, serial: next.serial + 1 };
    const body = JSON.stringify(stored, null, 2);
    const stateKey = this.key(next.stack, next.environment, 'state.json');
    await this.put(stateKey, body);
    await this.put(`${stateKey}.sha256`, sha256(body) + '\n');
    await this.prune(next.stack, next.environment);
    return stored;
  }

  async history(stack: string, env: string): Promise<HistoryEntry[]> {
    const prefix = this.key(stack, env, 'history/');
    const entries: HistoryEntry[] = [];
    const { ListObjectsV2Command } = await s3Sdk();
    const client = await this.client;
    let token: string | undefined;
    do {
      const r = await client.send(new ListObjectsV2Command({ Bucket: this.loc.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of r.Contents ?? []) {
        const m = /(\d+)\.json$/.exec(o.Key ?? '');
        if (m) entries.push({ serial: Number(m[1]), savedAt: o.LastModified ?? new Date(0) });
      }
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return entries.sort((a, b) => a.serial - b.serial);
  }

  async readVersion(stack: string, env: string, serial: number): Promise<StackState | undefined> {
    const current = await this.read(stack, env).catch(() => undefined);
    if (current?.serial === serial) return current;
    const key = this.key(stack, env, `history/${serial}.json`);
    const body = await this.get(key);
    return body === undefined ? undefined : parseState(body, `s3://${this.loc.bucket}/${key}`);
  }

  private async prune(stack: string, env: string): Promise<void> {
    const { DeleteObjectCommand } = await s3Sdk();
    for (const serial of prunableHistory(await this.history(stack, env), new Date())) {
      await (await this.client).send(new DeleteObjectCommand({ Bucket: this.loc.bucket, Key: this.key(stack, env, `history/${serial}.json`) }));
    }
  }
}

/**
 * The files of Pulumi's DIY backend (`file://` or `s3://` with endpoint parameters) as plain
 * objects addressed by their path under the backend root: what deployer needs to look at
 * Pulumi's locks and checkpoints after a killed run, without going through the CLI.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../util/atomic-write.js';
import { s3Client, s3Sdk } from '../util/aws.js';

export interface BackendObjects {
  /** Paths (relative to the root) of the objects directly under `dir` whose name ends with `suffix`. */
  list(dir: string, suffix: string): Promise<string[]>;
  /** The object's text, or undefined when there is none. */
  read(rel: string): Promise<string | undefined>;
  write(rel: string, body: string): Promise<void>;
  remove(rel: string): Promise<void>;
  /** Removes every object under `dir`, at any depth. */
  removeAll(dir: string): Promise<void>;
  /** Where `rel` is, for messages. */
  where(rel: string): string;
}

export function backendObjects(backendUrl: string): BackendObjects | undefined {
  if (backendUrl.startsWith('file://')) return fileObjects(fileURLToPath(backendUrl.split('?')[0]!));
  if (backendUrl.startsWith('s3://')) return s3Objects(new URL(backendUrl));
  return undefined;
}

function fileObjects(root: string): BackendObjects {
  const at = (rel: string): string => path.join(root, ...rel.split('/'));
  return {
    async list(dir, suffix) {
      const names = await fs.readdir(at(dir)).catch(() => [] as string[]);
      return names.filter((n) => n.endsWith(suffix)).map((n) => `${dir}/${n}`);
    },
    read: (rel) => fs.readFile(at(rel), 'utf8').catch(() => undefined),
    // Whole or not at all: a temporary file renamed over the old one, removed if the write fails.
    write: (rel, body) => writeFileAtomic(at(rel), body),
    async remove(rel) {
      await fs.rm(at(rel), { force: true });
      await fs.rm(`${at(rel)}.attrs`, { force: true });
    },
    removeAll: (dir) => fs.rm(at(dir), { recursive: true, force: true }),
    where: at,
  };
}

function s3Objects(u: URL): BackendObjects {
  const q = u.searchParams;
  const host = q.get('endpoint');
  const endpoint = host ? `${q.get('disableSSL') === 'true' ? 'http' : 'https'}://${host}` : undefined;
  const client = s3Client({
    region: q.get('region') ?? 'us-east-1',
    forcePathStyle: q.get('s3ForcePathStyle') === 'true',
    ...(endpoint ? { endpoint } : {}),
  });
  const bucket = u.hostname;
  const base = u.pathname.replace(/^\/+|\/+$/g, '');
  const key = (rel: string): string => [base, rel].filter(Boolean).join('/');
  return {
    async list(dir, suffix) {
      const { ListObjectsV2Command } = await s3Sdk();
      const keys: string[] = [];
      let token: string | undefined;
      do {
        // Directly under `dir` only; a page holds at most 1000 keys.
        const page = await (
          await client
        ).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${key(dir)}/`, Delimiter: '/', ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).map((o) => o.Key!));
        token = page.NextContinuationToken;
      } while (token);
      return keys.filter((k) => k.endsWith(suffix)).map((k) => `${dir}/${k.slice(key(dir).length + 1)}`);
    },
    async read(rel) {
      const { GetObjectCommand } = await s3Sdk();
      const obj = await (await client).send(new GetObjectCommand({ Bucket: bucket, Key: key(rel) })).catch(() => undefined);
      return obj ? obj.Body!.transformToString() : undefined;
    },
    async write(rel, body) {
      const { PutObjectCommand } = await s3Sdk();
      await (await client).send(new PutObjectCommand({ Bucket: bucket, Key: key(rel), Body: body }));
    },
    async remove(rel) {
      const { DeleteObjectCommand } = await s3Sdk();
      await (await client).send(new DeleteObjectCommand({ Bucket: bucket, Key: key(rel) }));
    },
    async removeAll(dir) {
      const { ListObjectsV2Command, DeleteObjectCommand } = await s3Sdk();
      const s3 = await client;
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${key(dir)}/`, ContinuationToken: token }));
        for (const o of page.Contents ?? []) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key! }));
        token = page.NextContinuationToken;
      } while (token);
    },
    where: (rel) => `s3://${bucket}/${key(rel)}`,
  };
}

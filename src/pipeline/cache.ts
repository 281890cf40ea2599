/**
 * The build cache, kept in the state backend (a directory or an S3 bucket, through the same
 * BlobStore as the state) so every runner that shares the state shares the cache:
 *
 *   <prefix>artifacts/<key>.json        the manifest of the artifact a key built (its digest, files)
 *   <prefix>blobs/<sha256>              each output file's bytes, once whatever artifact holds it
 *   <prefix>last/<stack>/<svc>/<comp>.json   the key and inputs of a component's last build
 *   <prefix>signatures/<digest>.json    signatures of an artifact (`deployer sign`)
 *
 * The prefix is `builds/` (shared across environments) or `stacks/{stack}/{env}/builds/`. A
 * manifest is written after all its blobs, so a reader that finds one finds everything it names.
 */
import type { BlobStore } from '../state/index.js';
import { canonicalJson, sha256 } from '../model/hash.js';
import type { PipelinePolicy } from '../model/desired.js';

/** One file of an artifact. */
export interface ArtifactFile {
  /** Relative to the build context, with `/`. */
  path: string;
  sha256: string;
  size: number;
  /** Unix permission bits (an executable stays executable). */
  mode: number;
}

/** What a build produced, under its key. */
export interface ArtifactManifest {
  format: 'deployer-artifact/v1';
  key: string;
  /** `sha256:` + the sha256 of the canonical file list (or the image id of a Dockerfile build). */
  digest: string;
  component: string;
  builder: 'command' | 'dockerfile';
  builderVersion: string;
  files: ArtifactFile[];
  /** The image a Dockerfile build made, by its tag. */
  image?: string;
  inputs: Record<string, string>;
  builtAt: string;
  buildMs: number;
}

/** A signature of an artifact digest (pipeline/signing.ts). */
export interface ArtifactSignature {
  digest: string;
  algorithm: 'ed25519';
  /** Base64 of the signature over the digest string's bytes. */
  signature: string;
  /** sha256 of the public key (SPKI DER), to find the trusted key it verifies with. */
  keyFingerprint: string;
  signedAt: string;
  signedBy: string;
}

/** The digest of an artifact made of `files`: content-addressed, independent of where or when it was built. */
export function digestOfFiles(files: ArtifactFile[]): string {
  const list = [...files].sort((a, b) => a.path.localeCompare(b.path)).map((f) => [f.path, f.sha256, f.mode & 0o111 ? 'x' : '-']);
  return `sha256:${sha256(canonicalJson(list))}`;
}

export class BuildCache {
  constructor(
    readonly blobs: BlobStore,
    /** `builds/` or `stacks/{stack}/{env}/builds/`. */
    readonly prefix: string,
  ) {}

  /** The cache of one stack environment, as the Stack's pipeline policy places it. */
  static of(blobs: BlobStore, policy: Pick<PipelinePolicy, 'buildCache'>, stack: string, environment: string): BuildCache {
    return new BuildCache(blobs, policy.buildCache === 'shared' ? 'builds/' : `stacks/${stack}/${environment}/builds/`);
  }

  /** Where the cache is, for messages. */
  get where(): string {
    return this.blobs.where(this.prefix);
  }

  async manifest(key: string): Promise<ArtifactManifest | undefined> {
    return this.json<ArtifactManifest>(`artifacts/${key}.json`);
  }

  async putManifest(m: ArtifactManifest): Promise<void> {
    await this.blobs.put(this.key(`artifacts/${m.key}.json`), JSON.stringify(m, null, 2) + '\n');
  }

  async blob(sha: string): Promise<Buffer | undefined> {
    return this.blobs.get(this.key(`blobs/${sha}`));
  }

  /** Stores a file's bytes unless a blob with that hash is already there. */
  async putBlob(sha: string, body: Buffer, known: ReadonlySet<string>): Promise<void> {
    if (known.has(sha)) return;
    await this.blobs.put(this.key(`blobs/${sha}`), body);
  }

  /** The hashes of the blobs stored now (one listing instead of a request per file). */
  async storedBlobs(): Promise<Set<string>> {
    const entries = await this.blobs.list(this.key('blobs/'));
    return new Set(entries.map((e) => e.key.slice(e.key.lastIndexOf('/') + 1)));
  }

  async lastBuild(stack: string, component: string): Promise<{ key: string; inputs: Record<string, string> } | undefined> {
    return this.json(`last/${stack}/${component}.json`);
  }

  async putLastBuild(stack: string, component: string, key: string, inputs: Record<string, string>): Promise<void> {
    await this.blobs.put(this.key(`last/${stack}/${component}.json`), JSON.stringify({ key, inputs }) + '\n');
  }

  async signatures(digest: string): Promise<ArtifactSignature[]> {
    return (await this.json<ArtifactSignature[]>(`signatures/${fileNameOf(digest)}.json`)) ?? [];
  }

  /** Adds a signature (replacing one by the same key). */
  async putSignature(s: ArtifactSignature): Promise<void> {
    const others = (await this.signatures(s.digest)).filter((x) => x.keyFingerprint !== s.keyFingerprint);
    await this.blobs.put(this.key(`signatures/${fileNameOf(s.digest)}.json`), JSON.stringify([...others, s], null, 2) + '\n');
  }

  private key(rest: string): string {
    return `${this.prefix}${rest}`;
  }

  private async json<T>(rest: string): Promise<T | undefined> {
    const body = await this.blobs.get(this.key(rest));
    return body === undefined ? undefined : (JSON.parse(body.toString('utf8')) as T);
  }
}

/** `sha256:abc...` as a file name. */
function fileNameOf(digest: string): string {
  return digest.replace(/[^A-Za-z0-9._-]/g, '_');
}

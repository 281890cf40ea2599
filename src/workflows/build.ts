/**
 * `deployer build` and `deployer sign`: the release stage on its own, without a lock or a
 * deployment, so CI can build, scan and sign an artifact before `deployer apply` deploys it
 * (that apply then finds it in the cache). Nothing here touches the state, locks or ledger.
 */
import os from 'node:os';
import type { Settings } from '../config/index.js';
import { InvalidInputError } from '../errors.js';
import { buildAll, privateKeyFrom, signDigest, type ArtifactSignature, type BuildReport } from '../pipeline/index.js';
import { loadStack } from './load-stack.js';
import { prepareRelease } from './release.js';

export interface BuiltComponent extends BuildReport {
  id: string;
}

/** Builds the components `ids` (all that build, when empty) of the environment; failures are in the results. */
export async function buildStack(settings: Settings, ids: string[], onLine: (line: string) => void): Promise<BuiltComponent[]> {
  const { loaded, prep } = await prepareRelease(await loadStack(settings), settings, { keyBuilds: true });
  const all = [...prep.keyed.keys()].sort();
  const unknown = ids.filter((id) => !prep.keyed.has(id));
  if (unknown.length > 0) {
    throw new InvalidInputError(`${unknown.join(', ')} ${unknown.length > 1 ? 'do' : 'does'} not build anything in this stack`, [
      all.length ? `Components with spec.build: ${all.join(', ')}` : 'No component of this stack has spec.build.',
    ]);
  }
  const chosen = ids.length > 0 ? ids : all;
  const results: BuiltComponent[] = [];
  await buildAll(chosen, prep.keyed, prep.cache, {
    stack: loaded.desired.name,
    concurrency: Math.min(settings.concurrency, 4),
    onStart: (id) => onLine(`${id}: building (${loaded.desired.components.get(id)!.build!.cache === 'hit' ? 'cache hit' : 'cache miss'})`),
    onDone: (id, r) => results.push({ id, ...r }),
  });
  return results.sort((a, b) => a.id.localeCompare(b.id));
}

/** Where the private key comes from: a PEM file, or an environment variable holding one (a secretRef of provider env). */
export type KeySource = { file: string } | { env: string };

/**
 * Signs an artifact, named by its digest or by a component whose current build is in the cache,
 * and stores the signature beside it. Returns the signature (never the key).
 */
export async function signArtifact(
  settings: Settings,
  subject: string,
  key: KeySource,
  readFile: (f: string) => Promise<string>,
): Promise<ArtifactSignature> {
  const { loaded, prep } = await prepareRelease(await loadStack(settings), settings, { keyBuilds: !subject.startsWith('sha256:') });
  let digest = subject;
  if (!subject.startsWith('sha256:')) {
    const c = loaded.desired.components.get(subject);
    if (!c?.build) throw new InvalidInputError(`${subject} is neither an artifact digest (sha256:...) nor a component that builds`);
    if (!c.build.digest) {
      throw new InvalidInputError(`${subject} has not been built as its inputs are now (${c.build.changed ?? 'cache miss'})`, [
        `Build it first: deployer build ${subject}`,
      ]);
    }
    digest = c.build.digest;
  }
  const pem = 'file' in key ? await readFile(key.file) : process.env[key.env];
  if (pem === undefined || pem === '')
    throw new InvalidInputError(`the environment variable ${'env' in key ? key.env : ''} holding the signing key is not set`);
  const privateKey = privateKeyFrom(pem, 'file' in key ? key.file : `$${key.env}`);
  const signature = signDigest(digest, privateKey, `${os.userInfo().username}@${os.hostname()}`);
  await prep.cache.putSignature(signature);
  return signature;
}

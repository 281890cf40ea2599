/**
 * pipeline/: what stands between a plan and its rollout (seed 002): builds keyed by their
 * inputs and kept in a cache in the state backend, release gates (security scan, policy,
 * signature), and Ed25519 signing of artifacts.
 */
export { buildConfigOf, type BuildConfig } from './build-config.js';
export { BuildCache, type ArtifactManifest, type ArtifactSignature } from './cache.js';
export { buildComponent, type BuildOutcome } from './build.js';
export { keyOf, whatChanged, type KeyedBuild } from './keys.js';
export { keyBuilds, type KeyedComponent } from './plan-builds.js';
export {
  buildAll,
  withDigests,
  Release,
  type BuildReport,
  type PrepareOptions,
  type PreparedRelease,
  type ReleaseStage,
} from './release.js';
export type { GateSubject, GateVerdict } from './gates.js';
export { publicKeyFile, privateKeyFrom, signDigest, writeNewKeyPair, fingerprintOf } from './signing.js';
export { artifactsRoot } from './materialize.js';

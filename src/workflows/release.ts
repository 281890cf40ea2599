/**
 * The pipeline inside a run (seed 002): before the lock, every component that builds is keyed
 * and looked up in the cache (the plan shows hit or miss) and the trusted keys are read (a bad
 * key file is bad input, refused before anything is locked); under the lock, `stageRelease`
 * builds what the plan deploys, before anything deploys, and gives the executor the Release
 * that unpacks each artifact and runs its gates just before the component deploys.
 */
import type { KeyObject } from 'node:crypto';
import type { Settings } from '../config/index.js';
import { evaluatePolicies, type PolicyRule } from '../discovery/policies.js';
import type { RunListener } from '../executor/events.js';
import type { DesiredStack } from '../model/desired.js';
import type { Plan } from '../model/plan.js';
import type { StackState } from '../model/state.js';
import { resolveSpec } from '../plan/index.js';
import {
  buildAll,
  BuildCache,
  keyBuilds,
  publicKeyFile,
  Release,
  withDigests,
  type BuildOutcome,
  type GateSubject,
  type KeyedComponent,
} from '../pipeline/index.js';
import { openBlobStore, type BlobStore } from '../state/index.js';
import type { LoadedStack } from './load-stack.js';

/** What the run's release stage starts from, found before the lock. */
export interface ReleasePrep {
  cache: BuildCache;
  keyed: Map<string, KeyedComponent>;
  trustedKeys: KeyObject[];
}

/** Keys the builds of `loaded` (none for a rollback or a destroy, which build nothing) and reads the trusted keys. */
export async function prepareRelease(
  loaded: LoadedStack,
  settings: Pick<Settings, 'stateUrl' | 'dir'>,
  o: { blobs?: BlobStore; keyBuilds: boolean },
): Promise<{ loaded: LoadedStack; prep: ReleasePrep }> {
  const { desired } = loaded;
  // Opened on first use: a run whose components build nothing never touches the cache.
  const blobs = o.blobs ?? lazyBlobs(() => openBlobStore(settings.stateUrl, settings.dir));
  const cache = BuildCache.of(blobs, desired.pipeline, desired.name, desired.environment);
  const trustedKeys = await Promise.all(desired.pipeline.trustedKeys.map((f) => publicKeyFile(f)));
  if (!o.keyBuilds) return { loaded, prep: { cache, keyed: new Map(), trustedKeys } };
  const keyed = await keyBuilds(desired, cache);
  return { loaded: { ...loaded, desired: keyed.desired }, prep: { cache, keyed: keyed.keyed, trustedKeys } };
}

/** A BlobStore opened when it is first used. */
function lazyBlobs(open: () => BlobStore): BlobStore {
  let store: BlobStore | undefined;
  const s = (): BlobStore => (store ??= open());
  return {
    get url() {
      return s().url;
    },
    get localRoot() {
      return s().localRoot;
    },
    get staleReadAttempts() {
      return s().staleReadAttempts;
    },
    pulumiBackend: (stack, env) => s().pulumiBackend(stack, env),
    where: (key) => s().where(key),
    get: (key) => s().get(key),
    put: (key, body) => s().put(key, body),
    delete: (key) => s().delete(key),
    list: (prefix) => s().list(prefix),
  };
}

/** Builds what `plan` deploys and makes the Release the executor prepares each component with. */
export async function stageRelease(
  prep: ReleasePrep,
  o: { plan: Plan; desired: DesiredStack; concurrency: number; listener: RunListener; signal?: AbortSignal },
): Promise<{ desired: DesiredStack; release: Release }> {
  const deploys = o.plan.actions.filter((a) => a.action !== 'no-op' && a.action !== 'delete' && a.build).map((a) => a.id);
  const built = await buildAll(deploys, prep.keyed, prep.cache, {
    stack: o.desired.name,
    // Builds are processes of their own: two at a time on a small machine, as many as asked on a big one.
    concurrency: Math.min(o.concurrency, 4),
    ...(o.signal ? { signal: o.signal } : {}),
    onStart: (id) => o.listener({ type: 'build-start', id }),
    onDone: (id, build) => o.listener({ type: 'build-done', id, build }),
  });
  const desired = withDigests(o.desired, built);
  return { desired, release: releaseOf(prep, desired, built) };
}

/** The Release of a run: its cache, what it built, the trusted keys, and the Compliance rules as the policy gate checks them. */
function releaseOf(prep: ReleasePrep, desired: DesiredStack, built: Map<string, BuildOutcome | Error>): Release {
  const rules = (desired.policyRules ?? []) as unknown as PolicyRule[];
  return new Release({
    desired,
    cache: prep.cache,
    built,
    trustedKeys: prep.trustedKeys,
    policyViolations: (s: GateSubject) =>
      evaluatePolicies(rules, [
        {
          id: s.component.id,
          kind: s.component.kind,
          environment: s.environment,
          spec: s.resolvedSpec,
          region: typeof s.resolvedSpec['region'] === 'string' ? s.resolvedSpec['region'] : undefined,
        },
      ])
        .filter((v) => !v.advisory)
        .map((v) => `${v.rule.name}: ${v.pointer.slice(1) || 'spec'} ${v.message}`),
  });
}

/**
 * `plan` with what each deploying component's gates would say now (`deployer plan`): the scan
 * report as it is, the Compliance rules over the spec resolved from the recorded outputs, the
 * signature of an artifact already in the cache. Nothing is built or written.
 */
export async function previewGates(prep: ReleasePrep, desired: DesiredStack, plan: Plan, state: StackState | undefined): Promise<Plan> {
  const release = releaseOf(prep, desired, new Map());
  const actions = await Promise.all(
    plan.actions.map(async (a) => {
      if (a.action === 'no-op' || a.action === 'delete') return a;
      const c = desired.components.get(a.id)!;
      const resolved = resolveSpec(c.spec, (id) => state?.components[id]?.outputs).spec;
      const gates = await release.preview(c, resolved);
      return gates.length > 0 ? { ...a, gates } : a;
    }),
  );
  return { ...plan, actions };
}

/**
 * The release stage of a run, between the plan and the rollout: `buildAll` builds (or takes
 * from the cache) every artifact the plan deploys, before anything deploys; `Release.prepare`
 * is what the executor calls just before one component deploys: its artifact unpacked where
 * the target runs it, then its gates. A rollback takes the recorded artifact from the cache by
 * its key and passes no gates: it returns to what already ran.
 */
import type { KeyObject } from 'node:crypto';
import path from 'node:path';
import { DeployerError } from '../errors.js';
import type { DesiredComponent, DesiredStack } from '../model/desired.js';
import { buildComponent, type BuildOutcome } from './build.js';
import type { BuildCache } from './cache.js';
import {
  PolicyGate,
  runGates,
  SecurityScanGate,
  SignatureGate,
  type Gate,
  type GateSubject,
  type GateVerdict,
  type ScanSettings,
} from './gates.js';
import { artifactsRoot, materialize } from './materialize.js';
import type { KeyedComponent } from './plan-builds.js';

/** A build's end as the run reports it. */
export interface BuildReport {
  cache: 'hit' | 'miss';
  key: string;
  digest?: string;
  durationMs: number;
  error?: string;
}

/** What a component deploys with, from the release stage. */
export interface PreparedRelease {
  artifact?: { key: string; digest: string; dir: string };
  verdicts: GateVerdict[];
}

/** How the executor follows one component through the release stage. */
export interface PrepareOptions {
  rollback: boolean;
  signal?: AbortSignal;
  /** The digest of the artifact it will deploy, once known (before its gates, which may refuse it). */
  onArtifact?: (digest: string) => void;
  onVerdict: (v: GateVerdict) => void;
}

/** The release stage as the executor sees it (a fake in the executor's unit tests). */
export interface ReleaseStage {
  prepare(c: DesiredComponent, resolvedSpec: Record<string, unknown>, o: PrepareOptions): Promise<PreparedRelease>;
}

/** Builds `ids` (those of `keyed` the plan deploys), `concurrency` at a time; a failure is kept for its component, not thrown. */
export async function buildAll(
  ids: string[],
  keyed: Map<string, KeyedComponent>,
  cache: BuildCache,
  o: {
    stack: string;
    concurrency: number;
    signal?: AbortSignal;
    onStart: (id: string) => void;
    onDone: (id: string, r: BuildReport) => void;
  },
): Promise<Map<string, BuildOutcome | Error>> {
  const out = new Map<string, BuildOutcome | Error>();
  const queue = ids.filter((id) => keyed.has(id));
  const worker = async (): Promise<void> => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      const { config, keyed: k } = keyed.get(id)!;
      o.onStart(id);
      const started = Date.now();
      try {
        const r = await buildComponent(config, k, cache, { stack: o.stack, ...(o.signal ? { signal: o.signal } : {}) });
        out.set(id, r);
        o.onDone(id, { cache: r.cache, key: k.key, digest: r.manifest.digest, durationMs: r.durationMs });
      } catch (err) {
        out.set(id, err as Error);
        o.onDone(id, { cache: 'miss', key: k.key, durationMs: Date.now() - started, error: (err as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, worker));
  return out;
}

/** `desired` with the digests the builds produced. */
export function withDigests(desired: DesiredStack, built: Map<string, BuildOutcome | Error>): DesiredStack {
  const components = new Map(desired.components);
  for (const [id, r] of built) {
    const c = components.get(id);
    if (c?.build && !(r instanceof Error)) components.set(id, { ...c, build: { ...c.build, digest: r.manifest.digest } });
  }
  return { ...desired, components };
}

/** The Stack's gates, a report path made absolute: relative to the stack directory, as a component's is to its file. */
function stackGates(gates: Record<string, unknown>, stackDir: string): Record<string, unknown> {
  const scan = gates['securityScan'] as ScanSettings | undefined;
  if (!scan?.report) return gates;
  return { ...gates, securityScan: { ...scan, report: path.resolve(stackDir, scan.report) } };
}

export class Release implements ReleaseStage {
  constructor(
    private readonly o: {
      desired: DesiredStack;
      cache: BuildCache;
      built: Map<string, BuildOutcome | Error>;
      trustedKeys: KeyObject[];
      /** The enforced Compliance violations of a resolved component (discovery's rules, given by the workflow). */
      policyViolations: (s: GateSubject) => string[];
    },
  ) {}

  async prepare(c: DesiredComponent, resolvedSpec: Record<string, unknown>, p: PrepareOptions): Promise<PreparedRelease> {
    const artifact = c.build ? await this.artifactOf(c, p.rollback) : undefined;
    if (artifact) p.onArtifact?.(artifact.digest);
    if (p.rollback) return { ...(artifact ? { artifact } : {}), verdicts: [] };
    const subject: GateSubject = {
      component: c,
      resolvedSpec,
      environment: this.environment,
      ...(artifact ? { artifact: { digest: artifact.digest, context: artifact.dir } } : {}),
    };
    const verdicts = await runGates(this.gatesOf(c), subject, p.onVerdict, p.signal);
    return { ...(artifact ? { artifact } : {}), verdicts };
  }

  /**
   * The verdicts the gates would give now, for `deployer plan`: nothing is unpacked or thrown; an
   * artifact not built yet cannot be verified and says so.
   */
  async preview(c: DesiredComponent, resolvedSpec: Record<string, unknown>): Promise<GateVerdict[]> {
    const digest = c.build?.digest;
    const subject: GateSubject = {
      component: c,
      resolvedSpec,
      environment: this.environment,
      ...(digest ? { artifact: { digest, context: c.baseDir } } : {}),
    };
    const verdicts: GateVerdict[] = [];
    const required =
      this.o.desired.pipeline.requireSignedArtifacts || (c.spec['gates'] as { signature?: boolean } | undefined)?.signature === true;
    for (const gate of this.gatesOf(c)) {
      if (gate.name === 'signature' && c.build && !digest) {
        if (required) verdicts.push({ gate: 'signature', status: 'skipped', summary: 'not built yet: checked once the build has run' });
        continue;
      }
      const { verdict } = await gate.check(subject);
      // An optional signature that is absent says nothing worth a line of the plan.
      if (gate.name !== 'signature' || required || verdict.status !== 'skipped') verdicts.push(verdict);
    }
    return verdicts;
  }

  /** The environment the Compliance rules name: a region's `prod/eu-west-1` is `prod`. */
  private get environment(): string {
    return this.o.desired.environment.split('/')[0]!;
  }

  private async artifactOf(c: DesiredComponent, rollback: boolean): Promise<{ key: string; digest: string; dir: string }> {
    const key = c.build!.key;
    // What this run built, when it is the artifact wanted (an undo wants the one that ran before).
    const built = this.o.built.get(c.id);
    if (built instanceof Error && !rollback) throw built;
    const mine = built && !(built instanceof Error) && built.manifest.key === key ? built.manifest : undefined;
    const manifest = mine ?? (await this.o.cache.manifest(key));
    if (!manifest) {
      throw new DeployerError(
        'BUILD_FAILED',
        `${c.id}: the artifact of build ${key.slice(0, 12)} is not in the build cache at ${this.o.cache.where}`,
        {
          details: ['It was built by an earlier run and has been removed since. Apply the configuration again to rebuild it.'],
        },
      );
    }
    const dir = manifest.builder === 'command' ? await materialize(manifest, this.o.cache, artifactsRoot(this.o.desired.dir)) : c.baseDir;
    return { key, digest: manifest.digest, dir };
  }

  private gatesOf(c: DesiredComponent): Gate[] {
    const { pipeline } = this.o.desired;
    const settings = {
      ...stackGates(pipeline.gates, this.o.desired.dir),
      ...((c.spec['gates'] as Record<string, unknown> | undefined) ?? {}),
    };
    const gates: Gate[] = [];
    if (settings['securityScan']) gates.push(new SecurityScanGate(settings['securityScan'] as ScanSettings));
    if (settings['policy'] !== false && (this.o.desired.policyRules?.length ?? 0) > 0) gates.push(new PolicyGate(this.o.policyViolations));
    const required = pipeline.requireSignedArtifacts || settings['signature'] === true;
    // Only an artifact can carry a signature: a component that builds nothing has none to check.
    if (c.build && (settings['signature'] !== false || pipeline.requireSignedArtifacts))
      gates.push(new SignatureGate(this.o.cache, this.o.trustedKeys, required));
    return gates;
  }
}

/**
 * The real engine over a file backend in `dir`, with the local target, and local S3 buckets as
 * operations on it: what the in-process engine tests drive.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PulumiFn } from '@pulumi/pulumi/automation/index.js';
import { createEngine, ensurePulumiCli, type Engine } from '../../src/engine/index.js';
import { LocalTarget } from '../../src/targets/local/index.js';

export interface BucketEngine {
  engine: Engine;
  /** The operation of bucket `app/<name>` on stack `<prefix>.test.app.<name>`. */
  bucket(name: string): { stackName: string; program: PulumiFn };
}

export async function bucketEngine(dir: string, prefix: string, batching = true): Promise<BucketEngine> {
  const target = new LocalTarget();
  const engine = await createEngine({
    cli: await ensurePulumiCli(),
    backendUrl: pathToFileURL(path.join(dir, 'pulumi')).href,
    workRoot: path.join(dir, 'work'),
    passphrase: prefix,
    env: target.engineEnv(),
    batching,
  });
  const bucket = (name: string): { stackName: string; program: PulumiFn } => {
    const component = {
      ...{ id: `app/${name}`, service: 'app', name, kind: 'S3' as const, target: 'local' as const, spec: {}, dependsOn: [] },
      ...{
        references: [],
        baseDir: dir,
        specHash: '',
        source: { file: path.join(dir, `${name}.yaml`), display: `${name}.yaml`, docIndex: 0 },
      },
    };
    return {
      stackName: `${prefix}.test.app.${name}`,
      program: target.program(component, {}, { stack: prefix, environment: 'test', stackDir: dir }),
    };
  };
  return { engine, bucket };
}

/** The checkpoint files the engine over `dir` keeps (one per component stack), sorted. */
export function checkpointFiles(dir: string): string[] {
  return readdirSync(stacksDir(dir))
    .filter((f) => f.endsWith('.json'))
    .sort();
}

/** The dependencies in `stackName`'s checkpoint on resources of other stacks (none once a shared operation was split back). */
export function foreignDependencies(dir: string, stackName: string): string[] {
  const file = JSON.parse(readFileSync(path.join(stacksDir(dir), `${stackName}.json`), 'utf8')) as {
    checkpoint: { latest: { resources: Array<{ dependencies?: string[] }> } };
  };
  const own = `urn:pulumi:${stackName}::`;
  return file.checkpoint.latest.resources.flatMap((r) => r.dependencies ?? []).filter((u) => !u.startsWith(own));
}

const stacksDir = (dir: string): string => path.join(dir, 'pulumi', '.pulumi', 'stacks', 'deployer');

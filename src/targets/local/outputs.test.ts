/**
 * The outputs the local target makes are the ones the schemas declare for it: a `valueFrom`
 * that discovery accepts on `local` must be an output program() really returns (issue 11).
 * program() runs here under Pulumi's unit-test mocks (no engine, no processes): what it returns
 * is compared with LOCAL_OUTPUTS and with each kind's `x-deployer-target-outputs.local`, and
 * the bucket provider is checked to produce every one of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declaredOutputs } from '../../discovery/outputs.js';
import { loadSchemas } from '../../discovery/validate.js';
import type { DesiredComponent } from '../../model/desired.js';
import * as bucket from './bucket.js';
import { LOCAL_KINDS, LOCAL_OUTPUTS, LocalTarget } from './index.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'deployer-outputs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

beforeAll(async () => {
  // Resources are registered with these mocks instead of an engine: nothing is created.
  await pulumi.runtime.setMocks(
    { newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }), call: (args) => args.inputs },
    'project',
    'stack',
    false,
  );
});

const schemas = loadSchemas();
const SPECS: Record<keyof typeof LOCAL_OUTPUTS, Record<string, unknown>> = {
  MicroService: { port: 8080, command: ['node', 'server.mjs'] },
  Worker: { command: ['node', 'worker.mjs'] },
  CronJob: { command: ['node', 'job.mjs'], schedule: '*/5 * * * *' },
  S3: {},
};

describe('local target outputs', () => {
  it('covers every kind the local target makes', () => {
    expect(Object.keys(LOCAL_OUTPUTS).sort()).toEqual([...LOCAL_KINDS].sort());
  });

  it.each(Object.keys(SPECS) as Array<keyof typeof LOCAL_OUTPUTS>)(
    '%s: program() returns exactly the outputs its schema declares for local',
    async (kind) => {
      const name = kind.toLowerCase();
      const source = { file: path.join(root, `${name}.yaml`), display: `${name}.yaml`, docIndex: 0 };
      const c: DesiredComponent = {
        id: `web/${name}`,
        service: 'web',
        name,
        kind,
        target: 'local',
        spec: SPECS[kind],
        dependsOn: [],
        references: [],
        baseDir: root,
        source,
        specHash: '',
      };
      const outs = await new LocalTarget().program(c, SPECS[kind], { stack: 'tmp', environment: 'dev', stackDir: root })();
      expect(Object.keys(outs as object)).toEqual([...LOCAL_OUTPUTS[kind]]);
      expect(declaredOutputs(schemas, kind).byTarget['local']).toEqual([...LOCAL_OUTPUTS[kind]]);
    },
  );

  it('S3: the bucket provider produces every output program() returns', async () => {
    const { outs } = await bucket.create({
      kind: 'S3',
      component: 'web/files',
      bucketName: 'files',
      path: path.join(root, 'files'),
      versioning: false,
      forceDestroy: false,
    });
    for (const o of LOCAL_OUTPUTS.S3) expect(outs[o], o).toBeTypeOf('string');
  });
});

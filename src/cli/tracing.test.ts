/**
 * `deployer apply | destroy | rollback` traced through the CLI as a user runs it: with
 * OTEL_EXPORTER_OTLP_ENDPOINT set, the run's span reaches a real OTLP/HTTP receiver before the
 * command returns; without it, nothing is sent and no OpenTelemetry module is even loaded.
 * Runs that need no Pulumi (a destroy of a stack never applied, a rollback refused), so that no
 * engine runs: the component spans are workflows/tracing.test.ts's.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployer, deployerJson } from '../../test/helpers/cli.js';
import { startOtlpReceiver, type OtlpReceiver } from '../../test/helpers/otlp-receiver.js';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import { deployerVersion } from '../package-info.js';
import type { RunSummary } from '../executor/events.js';

const stack = (): string =>
  writeStackDir({
    'stack.yaml': `apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: shop\nspec:\n  environments: [dev]\n  target: local\n`,
    'services/data/service.yaml': `apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: data\n`,
    'services/data/files.yaml': `apiVersion: components.deployer.io/v1\nkind: S3\nmetadata:\n  name: files\n  service: data\nspec:\n  bucketName: data-files\n`,
  });

/** No tracing, whatever the environment running the tests says. */
const OFF = { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' };
const loadedOtel = (): string[] => Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('@opentelemetry'));

let receiver: OtlpReceiver;
/** What a run without tracing left: exit code, spans received, OpenTelemetry modules loaded. */
let untraced: { code: number; spans: number; loaded: string[] };

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  // First of all in this process (a beforeAll runs before any test, in any order), so that the
  // modules loaded are the untraced run's alone.
  const r = await deployer(['destroy', '--yes', '-C', stack(), '-e', 'dev'], OFF);
  untraced = { code: r.code, spans: receiver.spans.length, loaded: loadedOtel() };
});
afterAll(async () => {
  await receiver.close();
  removeTestdirs();
});

describe('deployer traced', () => {
  it('without OTEL_EXPORTER_OTLP_ENDPOINT: nothing is sent, no OpenTelemetry module is loaded', () => {
    expect(untraced).toEqual({ code: 0, spans: 0, loaded: [] });
  });

  it('with it: the run span is exported before the command returns', async () => {
    const env = { ...OFF, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint };
    const r = await deployerJson<{ summary: RunSummary }>(['destroy', '--yes', '-C', stack(), '-e', 'dev'], env);
    expect(r.code).toBe(0);
    const [run, ...more] = receiver.spans;
    expect(more).toEqual([]);
    expect(run).toMatchObject({
      name: 'deployer.run',
      parentSpanId: undefined,
      statusCode: 0,
      resource: { 'service.name': 'deployer', 'service.version': deployerVersion },
      attributes: {
        'deployer.operation': 'destroy',
        'deployer.stack': 'shop',
        'deployer.environment': 'dev',
        'deployer.run_id': r.json.summary.runId,
        'deployer.result': 'success',
      },
    });
    expect(receiver.refused).toEqual([]);
    // What the untraced run's check looks for is there once tracing is on.
    expect(loadedOtel().length).toBeGreaterThan(0);
  });

  it('a command that fails still sends its span, with the error', async () => {
    receiver.spans.splice(0);
    const env = { ...OFF, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_SERVICE_NAME: 'ci-deployer' };
    const r = await deployer(['rollback', '--yes', '-C', stack(), '-e', 'dev'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('there is nothing to roll back');
    expect(receiver.spans).toHaveLength(1);
    expect(receiver.spans[0]).toMatchObject({
      name: 'deployer.run',
      statusCode: 2,
      resource: { 'service.name': 'ci-deployer' },
      attributes: { 'deployer.operation': 'rollback', 'deployer.result': 'error' },
      events: ['exception'],
    });
    expect(receiver.spans[0]!.statusMessage).toContain('there is nothing to roll back');
  });
});

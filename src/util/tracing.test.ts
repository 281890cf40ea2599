/**
 * When tracing is on, by the standard OpenTelemetry environment, and where spans go; and that
 * when it is off nothing of OpenTelemetry is loaded (this file never turns it on, so its process
 * has loaded none of it). Spans exported for real: workflows/tracing.test.ts and cli/tracing.test.ts.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { startTracing, tracesUrl } from './tracing.js';

const loadedOtel = (): string[] => Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('@opentelemetry'));

describe('tracing', () => {
  it('sends spans to the endpoint OTEL_EXPORTER_OTLP_ENDPOINT names, at /v1/traces', () => {
    expect(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe('http://collector:4318/v1/traces');
    expect(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/otlp/' })).toBe('http://collector:4318/otlp/v1/traces');
    // The traces endpoint, when given, is the whole URL and wins.
    expect(
      tracesUrl({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/ingest',
      }),
    ).toBe('https://traces.example/ingest');
    expect(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'console, otlp' })).toBe(
      'http://c:4318/v1/traces',
    );
  });

  it('is off without an endpoint, or when the environment turns it off', async () => {
    expect(tracesUrl({})).toBeUndefined();
    expect(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' })).toBeUndefined();
    expect(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'TRUE' })).toBeUndefined();
    expect(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    expect(await startTracing('deployer', { env: {} })).toBeUndefined();
    expect(
      await startTracing('deployer', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' } }),
    ).toBeUndefined();
    // Off costs nothing: not one OpenTelemetry module was loaded.
    expect(loadedOtel()).toEqual([]);
  });
});

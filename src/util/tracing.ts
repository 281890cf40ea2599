/**
 * OpenTelemetry tracing for the CLI and the server alike: spans exported over OTLP/HTTP (JSON)
 * when the standard environment says where to (`OTEL_EXPORTER_OTLP_ENDPOINT`, spans going to
 * `${endpoint}/v1/traces`, or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as the full URL), and nothing
 * at all otherwise.
 *
 * The @opentelemetry modules are loaded here with `import()` only when tracing is on: the CLI's
 * start-up time is measured (issue 15) and a run without tracing must not pay for loading an SDK
 * and an exporter (about 300 modules). Everything else imports only their types, which vanish at
 * compile time, and reaches the API through `Tracing.api`.
 */
import type * as OtelApi from '@opentelemetry/api';

/** Tracing that is on: a tracer whose spans are exported, and the way to end it. */
export interface Tracing {
  /** @opentelemetry/api, loaded (for `trace.setSpan`, `SpanStatusCode` ... without a static import). */
  readonly api: typeof OtelApi;
  /** The tracer spans are made with (instrumentation scope `deployer`). */
  readonly tracer: OtelApi.Tracer;
  /**
   * Exports the spans not exported yet, waiting for the collector's answer (or the exporter's
   * timeout, `OTEL_EXPORTER_OTLP_TIMEOUT`), then stops: call it before the process ends, or the
   * spans of a short command are lost. Never rejects: a collector that is down costs spans, not
   * the command.
   */
  shutdown(): Promise<void>;
}

/** How tracing is started. */
export interface TracingOptions {
  /** Where the OTEL_* variables are read (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** The `service.version` resource attribute (deployer's version). */
  serviceVersion?: string;
}

/**
 * Where spans go under the standard OTLP/HTTP environment, or undefined when tracing is off:
 * no endpoint, `OTEL_SDK_DISABLED=true`, or `OTEL_TRACES_EXPORTER` naming no `otlp` exporter.
 */
export function tracesUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return undefined;
  const exporters = env['OTEL_TRACES_EXPORTER']?.trim();
  if (exporters && !exporters.split(',').some((e) => e.trim() === 'otlp')) return undefined;
  const traces = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']?.trim();
  if (traces) return traces;
  const base = env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim();
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

/**
 * Starts tracing for `serviceName` (the `service.name` resource attribute, unless
 * `OTEL_SERVICE_NAME` names another) when the environment asks for it (tracesUrl); resolves to
 * undefined, having loaded nothing, when it does not.
 */
export async function startTracing(serviceName: string, options: TracingOptions = {}): Promise<Tracing | undefined> {
  const env = options.env ?? process.env;
  const url = tracesUrl(env);
  if (url === undefined) return undefined;
  const [api, sdk, exporter, resources] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const provider = new sdk.BasicTracerProvider({
    resource: resources.resourceFromAttributes({
      'service.name': env['OTEL_SERVICE_NAME']?.trim() || serviceName,
      ...(options.serviceVersion ? { 'service.version': options.serviceVersion } : {}),
    }),
    // Batched: a run of many components sends a few requests, not one per span.
    spanProcessors: [new sdk.BatchSpanProcessor(new exporter.OTLPTraceExporter({ url }))],
  });
  return {
    api,
    tracer: provider.getTracer('deployer', options.serviceVersion),
    // Export failures are reported through OpenTelemetry's diagnostics, never to the command.
    shutdown: () => provider.shutdown().catch(() => undefined),
  };
}

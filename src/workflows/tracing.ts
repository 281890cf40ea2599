/**
 * A run as an OpenTelemetry trace, made from the events the run already tells its listener
 * (executor/events.ts), so the workflows themselves know nothing of tracing:
 *
 *   deployer.run                 one per apply, destroy or rollback
 *     deployer.component         one per component the run deployed, deleted, failed or skipped
 *     deployer.rollback          the automatic undo of a failed apply, when there is one
 *       deployer.component       one per component it put back
 *
 * Attributes are namespaced `deployer.*` (OpenTelemetry keeps `service.*` for the process that
 * emits the spans, deployer itself). Only types are imported from @opentelemetry here: the API
 * comes loaded, with the tracer, from util/tracing.ts, and only when tracing is on.
 */
import type { Attributes, Context, Span } from '@opentelemetry/api';
import type { ComponentReport, RunEvent, RunListener, RunSummary } from '../executor/events.js';
import type { Tracing } from '../util/tracing.js';
import type { Operation, RunOutcome } from './context.js';
import { serviceOf } from './ledger-records.js';

/** A run being traced. */
export interface TracedRun {
  /** The listener to give the run: records each event in the trace, then passes it on. */
  readonly listener: RunListener;
  /**
   * Ends the run's span with how the run ended: the outcome the workflow returned, or the error
   * it threw. Call it once the run is over (a second call does nothing).
   */
  end(result: { outcome: RunOutcome } | { error: unknown }): void;
}

/**
 * Traces one run of `operation`: the run's span starts now, as a root span (or a child of the
 * span active in `parent`, e.g. the server's request), and ends with `end`. Every event is passed
 * on to `listener` unchanged.
 */
export function traceRun(
  tracing: Pick<Tracing, 'api' | 'tracer'>,
  operation: Operation,
  listener: RunListener,
  parent?: Context,
): TracedRun {
  const { api, tracer } = tracing;
  const run = tracer.startSpan('deployer.run', { attributes: { 'deployer.operation': operation } }, parent ?? api.context.active());
  const inRun = api.trace.setSpan(parent ?? api.context.active(), run);
  let environment: string | undefined;
  let versions: Record<string, string> = {};
  let undo: { span: Span; context: Context } | undefined;
  let summary: RunSummary | undefined;
  let ended = false;

  const traceComponent = (report: ComponentReport): void => {
    // A component the run left as it was is not a deployment: no span (a plan of 1000 with 2 changes makes 2).
    if (report.result === 'unchanged' && !report.engine) return;
    const service = serviceOf(report.id);
    const version = undo ? undefined : versions[service];
    const attributes: Attributes = {
      'deployer.component': report.id,
      'deployer.service': service,
      ...(version !== undefined ? { 'deployer.version': version } : {}),
      ...(environment !== undefined ? { 'deployer.environment': environment } : {}),
      'deployer.action': report.action,
      'deployer.result': report.result,
      'deployer.engine': report.engine,
      ...(undo ? { 'deployer.rollback': true } : {}),
      ...(report.result !== 'failed' && report.reason ? { 'deployer.reason': report.reason } : {}),
    };
    // Spans are made when the component is done, with the times the executor measured: one that
    // never started (skipped, cancelled) is a point in time.
    const endTime = report.endedAt ? new Date(report.endedAt) : new Date();
    const startTime = report.startedAt ? new Date(report.startedAt) : endTime;
    const span = tracer.startSpan('deployer.component', { startTime, attributes }, undo?.context ?? inRun);
    if (report.result === 'failed') span.setStatus({ code: api.SpanStatusCode.ERROR, message: report.reason ?? 'failed' });
    span.end(endTime);
  };

  const record = (e: RunEvent): void => {
    switch (e.type) {
      case 'plan':
        environment = e.plan.environment;
        versions = e.versions ?? {};
        run.setAttributes({ 'deployer.stack': e.plan.stack, 'deployer.environment': e.plan.environment });
        break;
      case 'component-done':
        traceComponent(e.report);
        break;
      case 'rollback-start': {
        const span = tracer.startSpan('deployer.rollback', { attributes: { 'deployer.reason': e.reason } }, inRun);
        undo = { span, context: api.trace.setSpan(inRun, span) };
        break;
      }
      case 'rollback-done':
        if (!e.rollback.ok) undo?.span.setStatus({ code: api.SpanStatusCode.ERROR, message: 'not every component went back' });
        undo?.span.end();
        undo = undefined;
        break;
      case 'lock-lost':
        run.addEvent('lock lost', { 'deployer.reason': e.reason });
        break;
      case 'summary':
        summary = e.summary;
        break;
      default:
        break;
    }
  };

  return {
    listener: (e) => {
      record(e);
      listener(e);
    },
    end(result) {
      if (ended) return;
      ended = true;
      // A rollback cut short by an error ends with the run.
      undo?.span.end();
      if ('error' in result) {
        const err = result.error;
        run.recordException(err instanceof Error ? err : String(err));
        run.setStatus({ code: api.SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        run.setAttribute('deployer.result', 'error');
      } else {
        const { outcome } = result;
        const done = outcome.status === 'done' ? (summary ?? outcome.summary) : undefined;
        if (done) {
          run.setAttributes({
            'deployer.run_id': done.runId,
            'deployer.stack': done.stack,
            'deployer.environment': done.environment,
            'deployer.result': done.ok ? 'success' : done.rollback ? 'rolled-back' : 'failed',
          });
          if (!done.ok) run.setStatus({ code: api.SpanStatusCode.ERROR, message: failedComponents(done) });
        } else run.setAttribute('deployer.result', outcome.status);
      }
      run.end();
    },
  };
}

/** What the run's error status says: the components that did not get where the run wanted. */
function failedComponents(summary: RunSummary): string {
  const failed = summary.components.filter((c) => c.result === 'failed').map((c) => c.id);
  return failed.length > 0 ? `failed: ${failed.join(', ')}` : 'the run did not finish';
}

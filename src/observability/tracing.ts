/**
 * OpenTelemetry traces: one trace per DAG run, exported over OTLP/HTTP (JSON) to
 * `UPDRAFT_OTLP_ENDPOINT` (or the standard `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` /
 * `OTEL_EXPORTER_OTLP_ENDPOINT`); off when none is set.
 *
 *   dag_run <dag>                  (scheduler process, exported when the run finishes)
 *   └── attempt <dag>.<task> #n    (worker process, the task runner)
 *       ├── <operator step>         (`traceStep`: each SQL statement, each snapshot write, …)
 *       └── commit <dag>.<task> #n  (scheduler process: the attempt's output committed)
 *           └── <commit step>       (a version published, quality results recorded, …)
 *
 * The run's trace id and span id are derived from the DAG and run ids (`runTraceIds`),
 * and an attempt's span id from its key (`attemptSpanId`), so a worker parents its
 * attempt span on the run span, and the scheduler its commit span on the attempt span,
 * with no context passed along; every log line about a run can carry its `trace_id`
 * whether or not tracing is on.
 */
import {
  type Attributes,
  context,
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type IdGenerator,
  RandomIdGenerator,
} from '@opentelemetry/sdk-trace-base';
import { attemptSpanId, runTraceIds } from './trace-context.ts';

const TRACER = 'updraft';

/** The OTLP/HTTP traces URL from the environment, or null (tracing off). */
export function otlpTracesUrl(
  env: Record<string, string | undefined> = process.env,
): string | null {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = (env.UPDRAFT_OTLP_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT)?.trim();
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : null;
}

/** Hands out preset ids for the next span (the run span), random ones otherwise. */
class PresetIdGenerator implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  preset: { traceId: string; spanId: string } | null = null;
  generateTraceId(): string {
    return this.preset?.traceId ?? this.random.generateTraceId();
  }
  generateSpanId(): string {
    return this.preset?.spanId ?? this.random.generateSpanId();
  }
}

interface Tracing {
  provider: BasicTracerProvider;
  ids: PresetIdGenerator;
  url: string;
}

let active: Tracing | null = null;
let initialised = false;

/**
 * Starts exporting this process's spans when an endpoint is configured (once per
 * process; later calls return the same answer). Returns whether tracing is on.
 */
export function initTracing(
  serviceName: string,
  env: Record<string, string | undefined> = process.env,
): boolean {
  if (initialised) return active !== null;
  initialised = true;
  const url = otlpTracesUrl(env);
  if (url === null) return false;
  const ids = new PresetIdGenerator();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    idGenerator: ids,
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 500 }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  active = { provider, ids, url };
  return true;
}

/** Exports the spans ended so far (at the end of an attempt, at shutdown). */
export async function flushTracing(): Promise<void> {
  await active?.provider.forceFlush();
}

/** Flushes and stops exporting (process shutdown). */
export async function shutdownTracing(): Promise<void> {
  const t = active;
  active = null;
  initialised = false;
  if (!t) return;
  await t.provider.shutdown();
  trace.disable();
  context.disable();
}

/**
 * Records a finished run as the root span of its trace, with the derived ids, from
 * `startedAt` to `endedAt` (ms). A no-op when tracing is off.
 */
export function recordRunSpan(run: {
  dagId: string;
  runId: string;
  state: string;
  reason: string | null;
  startedAt: number;
  endedAt: number;
}): void {
  if (!active) return;
  active.ids.preset = runTraceIds(run.dagId, run.runId);
  const span = trace.getTracer(TRACER).startSpan(
    `dag_run ${run.dagId}`,
    {
      kind: SpanKind.INTERNAL,
      startTime: run.startedAt,
      attributes: {
        'updraft.dag_id': run.dagId,
        'updraft.run_id': run.runId,
        'updraft.state': run.state,
      },
    },
    ROOT_CONTEXT,
  );
  active.ids.preset = null;
  if (run.state === 'failed') {
    span.setStatus({ code: SpanStatusCode.ERROR, message: run.reason ?? 'run failed' });
  }
  span.end(run.endedAt);
}

/** An attempt's key, the ids of what it is in. */
type AttemptKeyLike = {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
};

/** The attributes naming an attempt, on its span and on its commit's. */
function attemptAttributes(attempt: AttemptKeyLike): Attributes {
  return {
    'updraft.dag_id': attempt.dagId,
    'updraft.run_id': attempt.runId,
    'updraft.task_id': attempt.taskId,
    'updraft.map_index': attempt.mapIndex,
    'updraft.try_number': attempt.tryNumber,
  };
}

/** An attempt's span and the context to run its operator in. */
export interface AttemptSpan {
  /** `trace_id` (and `span_id` when recording) for the attempt's log lines. */
  logFields: { trace_id: string; span_id?: string };
  /** Runs `fn` with the attempt span active, so `traceStep` spans nest under it. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Ends the span with the attempt's outcome and exports it in the background. */
  end(outcome: { outcome: string; exitReason: string; error?: { message: string } }): void;
}

/** Starts the span of one attempt, a child of its run's span. */
export function startAttemptSpan(attempt: {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
  operator: string;
}): AttemptSpan {
  initTracing('updraft-worker');
  const ids = runTraceIds(attempt.dagId, attempt.runId);
  if (!active) {
    return { logFields: { trace_id: ids.traceId }, run: (fn) => fn(), end() {} };
  }
  const parent = remoteParent(ids.traceId, ids.spanId);
  active.ids.preset = { traceId: ids.traceId, spanId: attemptSpanId(attempt) };
  const span = trace.getTracer(TRACER).startSpan(
    `attempt ${attempt.dagId}.${attempt.taskId} #${attempt.tryNumber}`,
    {
      attributes: { ...attemptAttributes(attempt), 'updraft.operator': attempt.operator },
    },
    parent,
  );
  active.ids.preset = null;
  const spanContext = trace.setSpan(parent, span);
  return {
    logFields: { trace_id: ids.traceId, span_id: span.spanContext().spanId },
    run: (fn) => context.with(spanContext, fn),
    end(outcome) {
      span.setAttribute('updraft.outcome', outcome.outcome);
      span.setAttribute('updraft.exit_reason', outcome.exitReason);
      if (outcome.outcome === 'failed') {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: outcome.error?.message ?? outcome.exitReason,
        });
      }
      span.end();
      flushTracing().catch(() => {
        // An unreachable collector must not fail the attempt; the exporter logs nothing more.
      });
    },
  };
}

/** A sampled remote span context as the parent of a span this process starts. */
function remoteParent(traceId: string, spanId: string) {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId,
    spanId,
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  });
}

/** The span `traceStep` hands its function when tracing is off: records nothing. */
const NOT_RECORDING = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Whether this process exports spans (attributes worth computing). */
export function tracingEnabled(): boolean {
  return active !== null;
}

/**
 * Runs one operator step (a SQL statement, a snapshot write) in a span under the current
 * span (the attempt's, or a commit's); records its error. `attributes` may be a function,
 * called only when tracing is on, so building them costs nothing otherwise: with tracing
 * off a step costs one function call.
 */
export function traceStep<T>(
  name: string,
  attributes: Attributes | (() => Attributes),
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  if (!active) return fn(NOT_RECORDING);
  const attrs = typeof attributes === 'function' ? attributes() : attributes;
  return trace
    .getTracer(TRACER)
    .startActiveSpan(name, { attributes: attrs }, (span) => endWith(span, fn(span)));
}

/** Ends `span` when `work` settles, recording a failure. */
async function endWith<T>(span: Span, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Runs the scheduler's commit of an attempt's output (`AttemptHooks.commitEffects`) in a
 * span `commit <dag>.<task> #n` under that attempt's span, so what the commit writes
 * (versions, manifests, quality results; `traceStep` inside it) joins the attempt's
 * tree. Just runs `fn` when tracing is off.
 */
export function traceAttemptCommit<T>(attempt: AttemptKeyLike, fn: () => Promise<T>): Promise<T> {
  if (!active) return fn();
  const parent = remoteParent(
    runTraceIds(attempt.dagId, attempt.runId).traceId,
    attemptSpanId(attempt),
  );
  return trace.getTracer(TRACER).startActiveSpan(
    `commit ${attempt.dagId}.${attempt.taskId} #${attempt.tryNumber}`,
    {
      attributes: attemptAttributes(attempt),
    },
    parent,
    (span) => endWith(span, fn()),
  );
}

/**
 * `fn` bound to the span active now, for work that runs later outside it (after a
 * commit): its `traceStep` spans then join the same tree. `fn` itself when tracing is off.
 */
export function bindToActiveSpan<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  return active ? context.bind(context.active(), fn) : fn;
}

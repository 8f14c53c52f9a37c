/**
 * Trace ids without the tracing SDK: the ids of a run's trace (derived from the DAG and
 * run ids, see `tracing.ts`) and of the active span. Light enough for every logger.
 */
import { createHash } from 'node:crypto';
import { context, trace } from '@opentelemetry/api';

/** The trace id (32 hex) and root span id (16 hex) of a DAG run. */
export function runTraceIds(dagId: string, runId: string): { traceId: string; spanId: string } {
  const hash = createHash('sha256').update(`updraft-run\u0000${dagId}\u0000${runId}`).digest('hex');
  return { traceId: hash.slice(0, 32), spanId: hash.slice(32, 48) };
}

/**
 * The span id (16 hex) of one attempt's span: derived like the run's ids, so the
 * scheduler can parent its commit of the attempt's output on the span a worker made.
 */
export function attemptSpanId(attempt: {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
}): string {
  const { dagId, runId, taskId, mapIndex, tryNumber } = attempt;
  return createHash('sha256')
    .update(
      `updraft-attempt\u0000${dagId}\u0000${runId}\u0000${taskId}\u0000${mapIndex}\u0000${tryNumber}`,
    )
    .digest('hex')
    .slice(0, 16);
}

/** The active span's `trace_id`/`span_id` (for log lines), or null outside a span. */
export function activeTraceFields(): { trace_id: string; span_id: string } | null {
  const span = trace.getSpan(context.active());
  if (!span) return null;
  const sc = span.spanContext();
  return trace.isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : null;
}

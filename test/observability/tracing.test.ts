/**
 * Traces through the whole engine: a local OTLP/HTTP endpoint receives the spans of a
 * run — the run span from the scheduler, attempt spans from the worker processes, and
 * operator steps (`traceStep`) under them — in one tree with the run's derived trace id,
 * which also appears in every line of the attempt logs.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { runTraceIds } from '../../src/observability/trace-context.ts';
import { type HttpReceiver, startHttpReceiver } from '../notify/receivers.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const PIPELINE = `
import { dag, traceStep } from 'updraft';
export default dag({ id: 'traced' }, (d) => {
  const extract = d.task('extract', async (ctx) => {
    const rows = await traceStep('sql select', { 'db.statement': 'select 1' }, async () => 3);
    await traceStep('snapshot write', { 'updraft.dataset': 'orders' }, async () => undefined);
    ctx.log.info('extracted', { rows });
    return rows;
  });
  d.task('load', () => 'ok').after(extract);
});
`;

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

function spansOf(receiver: HttpReceiver): OtlpSpan[] {
  return receiver.requests.flatMap((r) => {
    const body = JSON.parse(r.body) as {
      resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
    };
    return body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
  });
}

const backend = STORE_BACKENDS[0]!;

describe('traces', () => {
  let rt: TestRuntime | undefined;
  let otlp: HttpReceiver | undefined;
  afterEach(async () => {
    await rt?.close();
    await otlp?.close();
    delete process.env.UPDRAFT_OTLP_ENDPOINT;
  });

  it('exports run -> attempt -> step spans over OTLP/HTTP as one tree', async () => {
    otlp = await startHttpReceiver();
    process.env.UPDRAFT_OTLP_ENDPOINT = otlp.url;
    rt = await startTestRuntime(backend, { 'traced.ts': PIPELINE });
    await rt.runtime.ops.triggerRun('traced', { runId: 'r1' });
    await rt.waitForRun('traced', 'r1');
    const receiver = otlp;
    await rt.waitFor(
      async () => (spansOf(receiver).some((s) => s.name.startsWith('dag_run')) ? true : undefined),
      'the run span',
    );
    await rt.waitFor(
      async () =>
        spansOf(receiver).filter((s) => s.name.startsWith('attempt')).length === 2
          ? true
          : undefined,
      'both attempt spans',
    );
    expect(otlp.requests.every((r) => r.path === '/v1/traces')).toBe(true);
    const spans = spansOf(otlp);
    const { traceId, spanId } = runTraceIds('traced', 'r1');
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([traceId]));
    const byName = new Map(spans.map((s) => [s.name, s]));
    const run = byName.get('dag_run traced');
    const extract = byName.get('attempt traced.extract #1');
    const load = byName.get('attempt traced.load #1');
    expect(run?.spanId).toBe(spanId);
    expect(run?.parentSpanId ?? '').toBe('');
    expect(extract?.parentSpanId).toBe(spanId);
    expect(load?.parentSpanId).toBe(spanId);
    expect(byName.get('sql select')?.parentSpanId).toBe(extract?.spanId);
    expect(byName.get('snapshot write')?.parentSpanId).toBe(extract?.spanId);

    const log = readFileSync(await rt.runtime.ops.taskLogPath('traced', 'r1', 'extract'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(log.length).toBeGreaterThan(2);
    for (const line of log)
      expect(line).toMatchObject({ trace_id: traceId, span_id: extract?.spanId });
  }, 120_000);
});

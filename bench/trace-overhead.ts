/**
 * Trace overhead: what the span around every SQL statement (`traceSql`, used by
 * `DuckDbSession` and `PostgresSession`) costs per statement — with tracing off (no
 * endpoint: the default) and on (exporting to a local OTLP/HTTP endpoint that discards
 * what it gets) — against the same statement sent on the same DuckDB connection
 * directly, in the same run. A cheap statement (`select 42`, about as small as a
 * statement gets) makes the wrapper's share as large as it can be. 60 pairs of batches
 * of 200 statements, the two sides back to back; medians of each side and of the paired
 * differences (robust to the load of a shared machine).
 *
 *     node --import tsx bench/trace-overhead.ts
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DuckDbSession } from '../src/data/duckdb-session.ts';
import { initTracing, shutdownTracing, traceStep } from '../src/observability/tracing.ts';
import { runMain } from './support/main.ts';
import { type Figure, progress } from './support/report.ts';
import { withScope } from './support/scope.ts';
import { median, monotonicMs } from './support/stats.ts';

const NAME = 'trace overhead';
const BATCH = 200;
const PAIRS = 60;
const SQL = 'select 42';

/** Microseconds per statement of `fn` run `BATCH` times. */
async function perStatement(fn: () => Promise<unknown>): Promise<number> {
  const t = monotonicMs();
  for (let i = 0; i < BATCH; i++) await fn();
  return ((monotonicMs() - t) * 1000) / BATCH;
}

/**
 * `PAIRS` pairs of batches, direct and through the session back to back (the order
 * alternating), so a load spike on the shared machine hits both sides alike: the medians
 * of each side and of the paired differences.
 */
async function compare(
  direct: () => Promise<unknown>,
  session: () => Promise<unknown>,
  label: string,
): Promise<{ direct: number; session: number; difference: number }> {
  const a: number[] = [];
  const b: number[] = [];
  const diff: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const [x, y] =
      i % 2 === 0
        ? [await perStatement(direct), await perStatement(session)]
        : (([q, p]) => [p, q])([await perStatement(session), await perStatement(direct)]);
    a.push(x as number);
    b.push(y as number);
    diff.push((y as number) - (x as number));
  }
  const result = { direct: median(a), session: median(b), difference: median(diff) };
  progress(
    NAME,
    `${label}: direct ${us(result.direct)}, through the session ${us(result.session)}, paired difference ${us(result.difference)}`,
  );
  return result;
}

const us = (n: number) => `${n.toFixed(1)} µs`;

export async function traceOverhead(): Promise<Figure[]> {
  return withScope(async (scope) => {
    const session = await DuckDbSession.open({ threads: 1 });
    scope.defer('close DuckDB', () => session.close());
    const raw = () => session.main.run(SQL);
    const traced = () => session.run(SQL, 'bench');
    // Warm up both paths (and the JIT).
    await perStatement(raw);
    await perStatement(traced);
    const off = await compare(raw, traced, 'tracing off');

    // Tracing on, exporting to an endpoint that takes everything and keeps nothing.
    const sink = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200).end());
    });
    sink.listen(0, '127.0.0.1');
    await once(sink, 'listening');
    scope.defer('close the OTLP sink', () => new Promise<void>((r) => sink.close(() => r())));
    const { port } = sink.address() as AddressInfo;
    if (!initTracing('updraft-bench', { UPDRAFT_OTLP_ENDPOINT: `http://127.0.0.1:${port}` })) {
      throw new Error('tracing did not start');
    }
    scope.defer('stop tracing', () => shutdownTracing());
    // Under a parent span, as in an attempt.
    const on = await traceStep('bench', {}, () => compare(raw, traced, 'tracing on'));
    const statements = (PAIRS * BATCH).toLocaleString('en-US');
    return [
      {
        benchmark: NAME,
        metric: `\`${SQL}\` on DuckDB through DuckDbSession.run, tracing off (median of ${PAIRS} batches of ${BATCH}, ${statements} statements)`,
        value: us(off.session),
        target: 'no measurable overhead',
        baseline: `the connection directly ${us(off.direct)}; paired difference ${us(off.difference)} per statement`,
        met: null,
      },
      {
        benchmark: NAME,
        metric: 'the same, tracing on (a span per statement, exported over OTLP/HTTP)',
        value: us(on.session),
        target: '—',
        baseline: `the connection directly ${us(on.direct)}; paired difference ${us(on.difference)} per span`,
        met: null,
      },
    ];
  });
}

runMain(import.meta.url, traceOverhead);

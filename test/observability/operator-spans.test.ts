/**
 * Spans below the attempt, from a real pipeline in the whole engine: extract from
 * PostgreSQL → a DuckDB transform → quality checks with quarantine → load into
 * PostgreSQL → a parameterised SQL statement. A local OTLP/HTTP endpoint receives them;
 * the test checks the tree (run → attempt → SQL statements and snapshot writes, and the
 * scheduler's commit of each attempt under it, with the versions and manifests it
 * wrote) and the attributes: database semantic conventions, rows, bytes, dataset and
 * version — and that no literal, bound value or password reaches a span.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { attemptSpanId, runTraceIds } from '../../src/observability/trace-context.ts';
import { openSourceDatabase, type SourceDatabase } from '../data/support.ts';
import { type HttpReceiver, startHttpReceiver } from '../notify/receivers.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const PIPELINE = `
import { dag } from 'updraft';
export default dag({ id: 'shop' }, (d) => {
  const extract = d.operator('extract', 'extract', {
    connection: 'src',
    query: "select id, amount, status from orders where status <> 'cancelled'",
    dataset: 'raw_orders',
  }, { outlets: ['raw_orders'] });
  const transform = d.operator('duckdb', 'transform', {
    query: 'select id, amount * 2 as amount from raw_orders',
    output: 'orders',
  }, { inlets: ['raw_orders'], outlets: ['orders'] });
  const check = d.operator('quality', 'check', {
    checks: [{ type: 'range', column: 'amount', min: 0 }, { type: 'unique', column: 'id' }],
    quarantine: true,
  }, { inlets: ['orders'], outlets: ['orders.clean', 'orders.quarantine'] });
  const load = d.operator('load', 'load', {
    dataset: 'orders.clean', connection: 'src', table: 'orders_clean', mode: 'replace',
  }, { inlets: ['orders.clean'] });
  const audit = d.operator('sql', 'audit', {
    connection: 'src', sql: 'insert into audit (note) values ($1)', parameters: ['bound-value-7f3a'],
  });
  extract.before(transform);
  transform.before(check);
  check.before(load);
  load.before(audit);
});
`;

type AnyValue = {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
};

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: AnyValue }[];
}

interface Span {
  traceId: string;
  spanId: string;
  parent: string;
  name: string;
  attrs: Record<string, string | number | boolean | undefined>;
}

function spansOf(receiver: HttpReceiver): Span[] {
  return receiver.requests.flatMap((r) => {
    const body = JSON.parse(r.body) as {
      resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
    };
    return body.resourceSpans.flatMap((rs) =>
      rs.scopeSpans.flatMap((ss) =>
        ss.spans.map((s) => ({
          traceId: s.traceId,
          spanId: s.spanId,
          parent: s.parentSpanId ?? '',
          name: s.name,
          attrs: Object.fromEntries(
            (s.attributes ?? []).map((a) => [
              a.key,
              a.value.stringValue ??
                (a.value.intValue === undefined ? undefined : Number(a.value.intValue)) ??
                a.value.doubleValue ??
                a.value.boolValue,
            ]),
          ),
        })),
      ),
    );
  });
}

const TASKS = ['extract', 'transform', 'check', 'load', 'audit'] as const;

for (const backend of STORE_BACKENDS) {
  describe(`operator spans on ${backend.name}`, () => {
    let rt: TestRuntime | undefined;
    let otlp: HttpReceiver | undefined;
    let source: SourceDatabase | undefined;
    afterEach(async () => {
      await rt?.close();
      await otlp?.close();
      await source?.close();
      rt = undefined;
      delete process.env.UPDRAFT_OTLP_ENDPOINT;
    });

    it('traces every SQL statement and snapshot write of a pipeline under its attempt', async () => {
      source = await openSourceDatabase();
      await source.client.query(
        `create table orders (id integer, amount numeric(10,2), status text);
         insert into orders select i, case when i % 10 = 0 then -i else i end, case when i % 7 = 0 then 'cancelled' else 'paid' end from generate_series(1, 50) i;
         create table audit (note text)`,
      );
      const database = new URL(source.url).pathname.slice(1);
      otlp = await startHttpReceiver();
      process.env.UPDRAFT_OTLP_ENDPOINT = otlp.url;
      rt = await startTestRuntime(backend, { 'shop.ts': PIPELINE });
      // A password the server does not need (trust auth) but a careless span would show.
      const url = new URL(source.url);
      url.username = 'root';
      url.password = 's3cr3t-pw';
      writeFileSync(path.join(rt.home, 'connections.yaml'), `src: ${url.toString()}\n`);
      await rt.runtime.ops.triggerRun('shop', { runId: 'r1' });
      const run = await rt.waitForRun('shop', 'r1', 120_000);
      expect(run.tasks.map((t) => [t.taskId, t.state])).toEqual(TASKS.map((t) => [t, 'success']));
      const receiver = otlp;
      const expected = [
        'dag_run shop',
        ...TASKS.map((t) => `attempt shop.${t} #1`),
        ...['extract', 'transform', 'check'].map((t) => `commit shop.${t} #1`),
        'manifest write orders v1',
      ];
      await rt.waitFor(
        async () => {
          const names = new Set(spansOf(receiver).map((s) => s.name));
          return expected.every((n) => names.has(n)) ? true : undefined;
        },
        'the spans of the run, its attempts and commits',
        60_000,
      );
      const spans = spansOf(receiver);
      const { traceId, spanId: runSpanId } = runTraceIds('shop', 'r1');
      expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([traceId]));
      const byId = new Map(spans.map((s) => [s.spanId, s]));
      const one = (name: string, parent?: Span) => {
        const found = spans.filter(
          (s) => s.name === name && (parent === undefined || s.parent === parent.spanId),
        );
        expect(found, `one span '${name}'`).toHaveLength(1);
        return found[0] as Span;
      };
      const children = (parent: Span) => spans.filter((s) => s.parent === parent.spanId);
      /** The attempt a span belongs to (its nearest `attempt …` ancestor). */
      const attemptOf = (span: Span): string | undefined => {
        for (let s: Span | undefined = span; s; s = byId.get(s.parent)) {
          if (s.name.startsWith('attempt ')) return s.name;
        }
        return undefined;
      };

      // run → attempts, each with the span id derived from its key.
      const runSpan = one('dag_run shop');
      expect(runSpan.spanId).toBe(runSpanId);
      expect(runSpan.parent).toBe('');
      const attempts = Object.fromEntries(
        TASKS.map((t) => [t, one(`attempt shop.${t} #1`, runSpan)]),
      );
      for (const t of TASKS) {
        expect(attempts[t]?.spanId).toBe(
          attemptSpanId({ dagId: 'shop', runId: 'r1', taskId: t, mapIndex: -1, tryNumber: 1 }),
        );
      }
      // Every other span hangs under an attempt: nothing is left at the root or orphaned.
      for (const s of spans) {
        if (s === runSpan || s.name.startsWith('attempt ')) continue;
        expect(attemptOf(s), `the attempt of '${s.name}'`).toBeDefined();
      }

      const pg = (s: Span) => s.attrs['db.system'] === 'postgresql';
      const duck = (s: Span) => s.attrs['db.system'] === 'duckdb';
      const pgTarget = {
        'db.system': 'postgresql',
        'db.system.name': 'postgresql',
        'db.namespace': database,
        'server.address': '127.0.0.1',
        'server.port': 5432,
      };

      // extract: PostgreSQL statements, the COPY out with rows and bytes; the snapshot
      // write with DuckDB's statements under it.
      const extract = attempts.extract as Span;
      const extractSql = children(extract).filter(pg);
      expect(extractSql.map((s) => s.name)).toEqual(
        expect.arrayContaining([`SET ${database}`, `SELECT ${database}`, `COPY ${database}`]),
      );
      const copyOut = one(`COPY ${database}`, extract);
      expect(copyOut.attrs).toMatchObject({
        ...pgTarget,
        'db.operation.name': 'COPY',
        'db.query.text':
          'copy (select id, amount, status from orders where status <> ?) to stdout with (format csv)',
        'updraft.rows': 43,
      });
      expect(copyOut.attrs['updraft.bytes']).toBeGreaterThan(0);
      const rawWrite = one('snapshot write raw_orders', extract);
      expect(rawWrite.attrs).toMatchObject({
        'updraft.dataset': 'raw_orders',
        'updraft.rows': 43,
        'updraft.files': 1,
      });
      expect(rawWrite.attrs['updraft.bytes']).toBeGreaterThan(0);
      const parquetCopy = children(rawWrite).find((s) => s.name === 'COPY memory');
      expect(parquetCopy?.attrs).toMatchObject({
        'db.system': 'duckdb',
        'db.namespace': 'memory',
        'db.operation.name': 'COPY',
      });
      expect(parquetCopy?.attrs['db.query.text']).toMatch(
        /^copy \(select \* from read_csv\(\?, columns = \{\?: \?, \?: \?, \?: \?\}/,
      );

      // The scheduler's commit of each attempt's output, under the attempt: the version
      // numbered and its manifest written.
      const extractCommit = one('commit shop.extract #1', extract);
      expect(one('version commit raw_orders', extractCommit).attrs).toMatchObject({
        'updraft.dataset': 'raw_orders',
        'updraft.version': 1,
        'updraft.rows': 43,
      });
      const transform = attempts.transform as Span;
      expect(one('snapshot write orders', transform).attrs['updraft.rows']).toBe(43);
      expect(
        children(transform)
          .filter(duck)
          .map((s) => s.name),
      ).toContain('CREATE memory');
      expect(
        one('version commit orders', one('commit shop.transform #1', transform)).attrs,
      ).toMatchObject({ 'updraft.dataset': 'orders', 'updraft.version': 1 });

      // quality: the checks' scans under one span; quarantine and clean output written;
      // results and the manifest summary at the commit.
      const check = attempts.check as Span;
      const checks = one('quality checks orders v1', check);
      expect(checks.attrs).toMatchObject({
        'updraft.dataset': 'orders',
        'updraft.version': 1,
        'updraft.checks': 2,
        'updraft.rows': 43,
        'updraft.scans': 1,
        'updraft.checks_failed': 1,
      });
      const scan = children(checks).filter((s) => s.name === 'SELECT memory');
      expect(scan.length).toBeGreaterThan(0);
      expect(scan.every(duck)).toBe(true);
      expect(one('snapshot write orders.quarantine', check).attrs['updraft.rows']).toBe(5);
      expect(one('snapshot write orders.clean', check).attrs['updraft.rows']).toBe(38);
      const checkCommit = one('commit shop.check #1', check);
      expect(one('version commit orders.quarantine', checkCommit).attrs['updraft.version']).toBe(1);
      expect(one('version commit orders.clean', checkCommit).attrs['updraft.version']).toBe(1);
      const results = one('quality results orders v1', checkCommit);
      expect(one('manifest write orders v1', results).attrs).toMatchObject({
        'updraft.dataset': 'orders',
        'updraft.version': 1,
      });

      // load: one transaction on PostgreSQL, the COPY in with its rows.
      const load = attempts.load as Span;
      expect(
        children(load)
          .filter(pg)
          .map((s) => s.attrs['db.operation.name']),
      ).toEqual(expect.arrayContaining(['SET', 'BEGIN', 'CREATE', 'DELETE', 'COPY', 'COMMIT']));
      const copyIn = one(`COPY ${database}`, load);
      expect(copyIn.attrs).toMatchObject({
        ...pgTarget,
        'db.query.text': 'copy "orders_clean" ("id", "amount") from stdin with (format csv)',
        'updraft.rows': 38,
      });

      // A bound parameter is never in the text; literals are `?`.
      const insert = one(`INSERT ${database}`, attempts.audit as Span);
      expect(insert.attrs).toMatchObject({
        ...pgTarget,
        'db.query.text': 'insert into audit (note) values ($1)',
        'updraft.rows': 1,
      });
      const everything = JSON.stringify(receiver.requests.map((r) => r.body));
      for (const secret of ['bound-value-7f3a', 's3cr3t-pw', 'cancelled']) {
        expect(everything).not.toContain(secret);
      }
      expect((await source.client.query('select note from audit')).rows.map((r) => r.note)).toEqual(
        ['bound-value-7f3a'],
      );
    }, 240_000);
  });
}

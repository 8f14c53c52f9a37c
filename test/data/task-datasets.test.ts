/**
 * `ctx.datasets` in `ts` tasks, on both stores: the real `ts` operator imports a real
 * pipeline file and calls its functions through the task runner; versions are prepared,
 * staged and committed as the scheduler does (`support.ts`), and read back with DuckDB as
 * any Parquet reader would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_BACKENDS } from '../support/stores.ts';
import {
  type DataHarness,
  openDataHarness,
  type RunRef,
  readVersionRows,
  rssGrowthDuring,
} from './support.ts';

const PIPELINE = `
import { dag } from 'updraft';

export default dag({ id: 'ds' }, (d) => {
  d.task('write_people', async (ctx) =>
    ctx.datasets.write('people', [
      { id: 1, name: 'Ada', score: 9.5, born: new Date('1815-12-10T00:00:00Z'), tags: ['math', 'engines'], active: true, address: { city: 'London', zip: 'W1' } },
      { id: 2, name: 'Grace', score: null, born: new Date('1906-12-09T00:00:00Z'), tags: [], active: false, address: { city: 'New York', zip: null } },
      { id: 3, name: 'Edsger', score: 7, born: new Date('1930-05-11T00:00:00Z'), tags: ['graphs'], active: true },
    ]),
  );

  d.task('write_typed', async (ctx) =>
    ctx.datasets.write(
      'typed',
      (async function* () {
        yield { id: 1, amount: 12.5, day: new Date('2026-03-01T00:00:00Z'), vec: [1, 2, 3], big: 9007199254740993n, note: 'a' };
        yield { id: 2, amount: 0.1, day: new Date('2026-03-02T00:00:00Z'), vec: [0.5, 0.25, 0], big: 1, extra: 'b' };
      })(),
      { schema: { id: 'INTEGER', amount: 'DECIMAL(12,2)', day: 'DATE', vec: 'FLOAT[3]', big: 'BIGINT', note: 'VARCHAR' } },
    ),
  );

  d.task('write_empty', async (ctx) =>
    ctx.datasets.write('empty', [], { schema: { id: 'BIGINT', label: 'VARCHAR' } }),
  );

  d.task('derive', async (ctx) => {
    const people = await ctx.datasets.read('people');
    const scored = people.map((p) => ({ id: p.id, name_length: String(p.name).length, tag_count: (p.tags as string[]).length }));
    const written = await ctx.datasets.write('people_features', scored);
    const [stats] = await ctx.datasets.query('select count(*) as n, max(id) as top from people');
    return { written, stats, inlets: ctx.datasets.inlets() };
  });

  d.task('derive_sql', async (ctx) =>
    ctx.datasets.writeQuery('active_people', 'select id, name from people where active'),
  );

  d.task('write_then_fail', async (ctx) => {
    await ctx.datasets.write('doomed', [{ id: 1 }]);
    throw new Error('failed after writing');
  });

  d.task('stream_write', async (ctx) => {
    const total = Number(ctx.params.rows);
    let produced = 0;
    const rows = (async function* () {
      for (let i = 0; i < total; i++) {
        produced++;
        yield { id: i, payload: 'x'.repeat(300) + i, even: i % 2 === 0 };
      }
    })();
    const written = await ctx.datasets.write('stream', rows, { memoryLimit: '128MB', threads: 1 });
    return { written, produced };
  });

  d.task('stream_read', async (ctx) => {
    let batches = 0;
    let largest = 0;
    let rows = 0;
    let idSum = 0;
    let evens = 0;
    for await (const batch of ctx.datasets.batches('stream', { batchSize: 10000, memoryLimit: '128MB', threads: 1 })) {
      batches++;
      largest = Math.max(largest, batch.length);
      for (const row of batch) {
        rows++;
        idSum += row.id;
        if (row.even) evens++;
      }
    }
    let queried = 0;
    for await (const batch of ctx.datasets.queryBatches('select id from stream where id % 1000 = 0', { batchSize: 7 })) {
      queried += batch.length;
    }
    return { batches, largest, rows, idSum, evens, queried };
  });

  d.task('bad_value', async (ctx) =>
    ctx.datasets.write('bad', [{ id: 1, score: 1.5 }, { id: 2, score: 'high' }]),
  );
  d.task('bad_later_value', async (ctx) =>
    ctx.datasets.write('bad', [{ id: 1, score: 1.5 }, { id: 2, score: 'high' }], { inferRows: 1 }),
  );
  d.task('bad_schema_value', async (ctx) =>
    ctx.datasets.write('bad', [{ id: 1 }, { id: 2.5 }], { schema: { id: 'INTEGER' } }),
  );
  d.task('bad_schema_type', async (ctx) =>
    ctx.datasets.write('bad', [{ id: 1 }], { schema: { id: 'INTEGR' } }),
  );
  d.task('extra_column', async (ctx) =>
    ctx.datasets.write('bad', [{ id: 1 }, { id: 2, surprise: true }], { inferRows: 1 }),
  );
  d.task('unknown_inlet', async (ctx) => ctx.datasets.read('orders'));
  d.task('path_name', async (ctx) => ctx.datasets.write('../outside', [{ id: 1 }]));
  d.task('unsafe_bigint', async (ctx) => ctx.datasets.query('select 9007199254740993::bigint as big'));
  d.task('too_many', async (ctx) => ctx.datasets.read('people', { maxRows: 2 }));

  d.task('maybe_read', async (ctx) => ({
    inlets: ctx.datasets.inlets().map((i) => [i.ref, i.version]),
    input: Object.hasOwn(ctx.inputs, 'later?') ? ctx.inputs['later?'] : 'missing',
    rows: ctx.datasets.inlets().length > 0 ? (await ctx.datasets.read('later?')).length : null,
    views: await ctx.datasets.query("select table_name from duckdb_tables() union all select view_name from duckdb_views() where not internal"),
  }));
  d.task('read_absent', async (ctx) => ctx.datasets.read('later?'));
  d.task('write_later', async (ctx) => ctx.datasets.write('later', [{ id: 1 }, { id: 2 }]));
});
`;

/** A `ts` task of the pipeline above. */
function ts(taskId: string, extra: { inlets?: string[]; outlets?: string[] } = {}) {
  return { taskId, operator: 'ts', config: {}, ...extra };
}

for (const backend of STORE_BACKENDS) {
  describe(`ctx.datasets in ts tasks on ${backend.name}`, () => {
    let h: DataHarness;
    let run: RunRef;
    beforeAll(async () => {
      h = await openDataHarness(backend, { pipeline: PIPELINE });
      run = { runPk: await h.createRun('ds', 'r1'), dagId: 'ds', runId: 'r1' };
    });
    afterAll(async () => {
      await h?.close();
    });

    it('writes a version from rows: types inferred, rows and values read back', async () => {
      const { outcome } = await h.runTask(run, ts('write_people', { outlets: ['people'] }));
      expect(outcome.error?.message).toBeUndefined();
      expect(outcome.result).toEqual({
        dataset: 'people',
        rows: 3,
        bytes: expect.any(Number),
        files: 1,
      });
      const version = await h.ops.showVersion('people');
      expect(version).toMatchObject({ version: 1, rows: 3 });
      expect(version.manifest.schema).toEqual([
        { name: 'id', type: 'BIGINT', nullable: true },
        { name: 'name', type: 'VARCHAR', nullable: true },
        { name: 'score', type: 'DOUBLE', nullable: true },
        { name: 'born', type: 'TIMESTAMP WITH TIME ZONE', nullable: true },
        { name: 'tags', type: 'VARCHAR[]', nullable: true },
        { name: 'active', type: 'BOOLEAN', nullable: true },
        { name: 'address', type: 'STRUCT(city VARCHAR, zip VARCHAR)', nullable: true },
      ]);
      expect(version.manifest.producedBy).toMatchObject({
        dagId: 'ds',
        runId: 'r1',
        taskId: 'write_people',
      });
      expect(version.manifest.files[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
      const rows = await readVersionRows(version.location, 'id');
      expect(rows).toEqual([
        {
          id: '1',
          name: 'Ada',
          score: 9.5,
          born: '1815-12-10 00:00:00+00',
          tags: ['math', 'engines'],
          active: true,
          address: { city: 'London', zip: 'W1' },
        },
        {
          id: '2',
          name: 'Grace',
          score: null,
          born: '1906-12-09 00:00:00+00',
          tags: [],
          active: false,
          address: { city: 'New York', zip: null },
        },
        {
          id: '3',
          name: 'Edsger',
          score: 7,
          born: '1930-05-11 00:00:00+00',
          tags: ['graphs'],
          active: true,
          address: null,
        },
      ]);
    });

    it('writes with an explicit schema (types kept, other columns inferred) and an empty version', async () => {
      const { outcome } = await h.runTask(run, ts('write_typed', { outlets: ['typed'] }));
      expect(outcome.error?.message).toBeUndefined();
      const typed = await h.ops.showVersion('typed');
      expect(typed.manifest.schema.map((c) => `${c.name} ${c.type}`)).toEqual([
        'id INTEGER',
        'amount DECIMAL(12,2)',
        'day DATE',
        'vec FLOAT[]', // Parquet keeps fixed-size arrays as lists
        'big BIGINT',
        'note VARCHAR',
        'extra VARCHAR',
      ]);
      expect(await readVersionRows(typed.location, 'id')).toEqual([
        {
          id: 1,
          amount: '12.50',
          day: '2026-03-01',
          vec: [1, 2, 3],
          big: '9007199254740993',
          note: 'a',
          extra: null,
        },
        {
          id: 2,
          amount: '0.10',
          day: '2026-03-02',
          vec: [0.5, 0.25, 0],
          big: '1',
          note: null,
          extra: 'b',
        },
      ]);

      const empty = await h.runTask(run, ts('write_empty', { outlets: ['empty'] }));
      expect(empty.outcome.error?.message).toBeUndefined();
      const version = await h.ops.showVersion('empty');
      expect(version.rows).toBe(0);
      expect(version.manifest.schema.map((c) => `${c.name} ${c.type}`)).toEqual([
        'id BIGINT',
        'label VARCHAR',
      ]);
    });

    it('reads its pinned inlet and writes a derived dataset, with lineage to the version read', async () => {
      const { outcome } = await h.runTask(
        run,
        ts('derive', { inlets: ['people'], outlets: ['people_features'] }),
      );
      expect(outcome.error?.message).toBeUndefined();
      expect(outcome.result).toMatchObject({
        written: { dataset: 'people_features', rows: 3 },
        stats: { n: 3, top: 3 },
        inlets: [{ ref: 'people', dataset: 'people', version: 1, rows: 3 }],
      });
      const derived = await h.ops.showVersion('people_features');
      expect(derived.manifest.inputs).toEqual([{ dataset: 'people', version: 1 }]);
      expect(await readVersionRows(derived.location, 'id')).toEqual([
        { id: '1', name_length: '3', tag_count: '2' },
        { id: '2', name_length: '5', tag_count: '0' },
        { id: '3', name_length: '6', tag_count: '1' },
      ]);
      expect((await h.ops.lineage('people_features')).upstream).toEqual(['people']);

      const sql = await h.runTask(
        run,
        ts('derive_sql', { inlets: ['people'], outlets: ['active_people'] }),
      );
      expect(sql.outcome.error?.message).toBeUndefined();
      const active = await h.ops.showVersion('active_people');
      expect(active.manifest.inputs).toEqual([{ dataset: 'people', version: 1 }]);
      expect(await readVersionRows(active.location, 'id')).toEqual([
        { id: '1', name: 'Ada' },
        { id: '3', name: 'Edsger' },
      ]);
    });

    it('an optional inlet resolves to no version until the dataset has one, pinned per run', async () => {
      const first = { runPk: await h.createRun('ds', 'opt1'), dagId: 'ds', runId: 'opt1' };
      const absent = await h.runTask(first, ts('maybe_read', { inlets: ['later?'] }));
      expect(absent.outcome.error?.message).toBeUndefined();
      // No version, no view: ctx.inputs holds null for it.
      expect(absent.outcome.result).toEqual({ inlets: [], input: null, rows: null, views: [] });
      const read = await h.runTask(first, ts('read_absent', { inlets: ['later?'] }));
      expect(read.outcome).toMatchObject({ outcome: 'failed', exitReason: 'error_no_retry' });
      expect(read.outcome.error?.message).toBe(
        "task 'read_absent' reads optional inlet 'later?', which has no version in this run (the dataset has none yet): check ctx.datasets.inlets() (or {{ inputs['later?'] }}, null when absent) before reading it",
      );
      await h.runTask(first, ts('write_later', { outlets: ['later'] }));
      // The run pinned it absent: a re-run reads the same (nothing) ...
      const again = await h.runTask(first, ts('maybe_read', { inlets: ['later?'] }), {
        tryNumber: 2,
      });
      expect(again.outcome.result).toMatchObject({ inlets: [], input: null });
      // ... and the next run reads the version.
      const next = { runPk: await h.createRun('ds', 'opt2'), dagId: 'ds', runId: 'opt2' };
      const present = await h.runTask(next, ts('maybe_read', { inlets: ['later?'] }));
      expect(present.outcome.result).toMatchObject({
        inlets: [['later?', 1]],
        input: { dataset: 'later', version: 1, rows: 2 },
        rows: 2,
        views: [{ table_name: 'later' }],
      });
      // A version that does not exist is still an error, optional or not.
      await expect(h.runTask(next, ts('maybe_read', { inlets: ['later@v9?'] }))).rejects.toThrow(
        "task 'maybe_read' inlet 'later@v9?': dataset 'later' has no version v9 (latest: v1)",
      );
    });

    it('a task that fails after writing leaves no version', async () => {
      const { outcome, updatedDatasets } = await h.runTask(
        run,
        ts('write_then_fail', { outlets: ['doomed'] }),
      );
      expect(outcome.outcome).toBe('failed');
      expect(outcome.error?.message).toBe('failed after writing');
      expect(outcome.effects).toBeUndefined();
      expect(updatedDatasets).toEqual([]);
      expect((await h.ops.listDatasets()).map((d) => d.name)).not.toContain('doomed');
      // What it staged is not a version: vacuum removes it once its attempt is over.
      const staged = (await h.storage.listStaging()).filter((s) => s.meta?.dataset === 'doomed');
      expect(staged).toHaveLength(1);
    });

    it('refuses bad input with a clear error and no retry', async () => {
      const failure = async (taskId: string, extra: { inlets?: string[] } = {}) => {
        const { outcome } = await h.runTask(run, ts(taskId, extra));
        expect(outcome.outcome).toBe('failed');
        expect(outcome.exitReason).toBe('error_no_retry');
        return outcome.error?.message ?? '';
      };
      expect(await failure('bad_value')).toBe(
        "task 'bad_value' writing dataset 'bad': column 'score' holds numbers (row 1) and strings (row 2): give its type in the schema",
      );
      expect(await failure('bad_later_value')).toBe(
        "task 'bad_later_value' writing dataset 'bad': row 2, column 'score': DOUBLE takes a number, got a string",
      );
      expect(await failure('bad_schema_value')).toBe(
        "task 'bad_schema_value' writing dataset 'bad': row 2, column 'id': INTEGER takes a whole number, got a number",
      );
      expect(await failure('bad_schema_type')).toMatch(
        /^task 'bad_schema_type' writing dataset 'bad': schema column 'id': 'INTEGR' is not a DuckDB type \(.*INTEGR/,
      );
      expect(await failure('extra_column')).toBe(
        "task 'extra_column' writing dataset 'bad': row 2 has column 'surprise', which is not among the columns (id, from the schema and the first rows): add it to the schema",
      );
      expect(await failure('unknown_inlet', { inlets: ['people'] })).toBe(
        "task 'unknown_inlet' reads dataset 'orders', which is not among its inlets (inlets: 'people'): add 'orders' to the task's inlets",
      );
      expect(await failure('path_name')).toMatch(
        /^task 'path_name': '\.\.\/outside' is not a valid dataset name: use letters, digits/,
      );
      expect(await failure('unsafe_bigint')).toMatch(
        /column 'big' holds BIGINT value 9007199254740993, beyond the integers a JavaScript number holds exactly.*bigint: 'bigint'/,
      );
      expect(await failure('too_many', { inlets: ['people'] })).toBe(
        "task 'too_many' reading dataset 'people' v1: it has 3 rows, more than maxRows (2): read it with ctx.datasets.batches('people'), which streams any number of rows",
      );
      expect((await h.ops.listDatasets()).map((d) => d.name)).not.toContain('bad');
    });
  });
}

const first = STORE_BACKENDS[0];
/** Over 300 bytes per row: over 600 MB through `write` and back through `batches`. */
const ROWS = 2_000_000;

describe.runIf(first !== undefined)('ctx.datasets streams large data with bounded memory', () => {
  let h: DataHarness;
  beforeAll(async () => {
    if (first === undefined) return;
    h = await openDataHarness(first, { pipeline: PIPELINE });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('writes two million rows from a generator and reads them back in batches', async () => {
    const runPk = await h.createRun('ds', 'big');
    const run = { runPk, dagId: 'ds', runId: 'big' };
    // Warm up: the first call loads DuckDB's native library (tens of MB of code).
    const params = (rows: number) => ({ params: { rows } });
    const warm = await h.runTask(run, ts('stream_write', { outlets: ['stream'] }), params(1000));
    expect(warm.outcome.error?.message).toBeUndefined();

    const {
      value: [write, read],
      growth,
    } = await rssGrowthDuring(async () => [
      await h.runTask(run, ts('stream_write', { outlets: ['stream'] }), params(ROWS)),
      await h.runTask(run, ts('stream_read', { inlets: ['stream'] })),
    ]);
    expect(write.outcome.error?.message).toBeUndefined();
    expect(write.outcome.result).toMatchObject({ produced: ROWS, written: { rows: ROWS } });
    expect((await h.ops.showVersion('stream')).rows).toBe(ROWS);
    expect(read.outcome.error?.message).toBeUndefined();
    expect(read.outcome.result).toEqual({
      batches: ROWS / 10_000,
      largest: 10_000,
      rows: ROWS,
      idSum: (ROWS * (ROWS - 1)) / 2,
      evens: ROWS / 2,
      queried: ROWS / 1000,
    });
    const dataBytes = ROWS * 300;
    console.log(
      `ctx.datasets: ${(dataBytes / 1e6).toFixed(0)} MB written and read, RSS grew ${(growth / 1e6).toFixed(0)} MB`,
    );
    // Bounded: DuckDB's 128 MB limit plus a fixed allowance for what it does not count
    // (the appender's buffer, Parquet and zstd buffers, allocator arenas) and for one
    // batch of rows in JavaScript until it is collected — well under the data moved.
    const bound = 128 * 1024 * 1024 + 256 * 1024 * 1024;
    expect(dataBytes).toBeGreaterThan(bound);
    expect(growth).toBeLessThan(bound);
  }, 600_000);
});

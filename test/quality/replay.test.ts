/**
 * Quarantine replay on both stores: quarantined rows (a row failing two checks, a
 * duplicated key) taken back once per row of the checked version, fixed with DuckDB SQL,
 * checked again against the clean rows they join; those that pass become a new clean
 * version, the rest a new quarantine version — never a row lost or added, a version
 * replayed once, the chain of remainders replayable, lineage and manifests recorded.
 * Bad input (unknown dataset, a version that is no quarantine, a fix with a syntax error
 * or one that drops rows) gets a clear error and writes nothing.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskSpec } from '../../src/core/dag-spec.ts';
import { withQualityHooks } from '../../src/quality/quality-hooks.ts';
import { qualityDb } from '../../src/quality/quality-store.ts';
import { type ReplayRequest, replayQuarantine } from '../../src/quality/quarantine-replay.ts';
import { toJson } from '../../src/store/store.ts';
import {
  type DataHarness,
  openDataHarness,
  readVersionRows,
  recordDagVersion as recordVersion,
} from '../data/support.ts';
import { dagSpec, type TaskInput } from '../support/specs.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const CHECKS = [
  { type: 'range', column: 'amount', min: 0 },
  { type: 'not_null', column: 'email' },
  { type: 'unique', column: 'id' },
  { type: 'row_count', min: 1, blocking: true },
];

/** Orders 1–20 and a second, identical row 8: 3 and 5 negative, 5 and 7 without e-mail. */
const ORDERS = `select id, case when id in (3, 5) then -id else id end::double as amount,
  case when id in (5, 7) then null else 'u' || id || '@example.com' end as email
  from (select range::int as id from range(1, 21) union all select 8)`;

for (const backend of STORE_BACKENDS) {
  describe(`quarantine replay on ${backend.name}`, () => {
    let h: DataHarness;
    let run: { runPk: number; dagId: string; runId: string };
    const tasks: TaskSpec[] = [];
    let n = 0;
    const runTask = async (input: TaskInput) => {
      const done = await h.runTask(run, input);
      expect(done.outcome.error?.message).toBeUndefined();
      tasks.push(done.task);
      return done;
    };
    const write = (dataset: string, query: string) =>
      runTask({ taskId: `write_${++n}`, operator: 'duckdb', config: { query, output: dataset } });
    const check = (inlet: string, checks: unknown[]) =>
      runTask({
        taskId: `check_${++n}`,
        operator: 'quality',
        inlets: [inlet],
        config: { checks, quarantine: true } as never,
      });
    /** The DAG version of the run, as the loader records it (the replay reads the checks there). */
    const recordDagVersion = () => recordVersion(h, 'etl', tasks);
    const replay = (request: Partial<ReplayRequest>) =>
      replayQuarantine(h.store, h.storage, { dataset: 'orders', actor: 'tester', ...request });
    const rowsOf = async (ref: string, orderBy = 'id, email') =>
      readVersionRows((await h.ops.showVersion(ref)).location, orderBy);
    const versions = async (dataset: string) =>
      (await h.ops.listVersions(dataset)).map((v) => v.version);
    const staging = () => readdirSync(path.join(h.datasetsRoot, '.staging')).length;

    beforeAll(async () => {
      h = await openDataHarness(backend, {
        wrapHooks: (hooks, home) => withQualityHooks(hooks, { home }),
      });
      run = { runPk: await h.createRun('etl', 'r1'), dagId: 'etl', runId: 'r1' };
      await write('orders', ORDERS);
      await check('orders', CHECKS);
      await write('events', `select * from (values (1, 'a'), (1, 'a'), (2, 'b')) as t(id, kind)`);
      await check('events', [{ type: 'duplicate_rows' }]);
      await recordDagVersion();
    });
    afterAll(async () => {
      await h?.close();
    });

    it('quarantined each failing row once per check, and the clean rows went on', async () => {
      expect((await h.ops.showVersion('orders.quarantine@v1')).rows).toBe(6);
      expect((await h.ops.showVersion('orders.clean@v1')).rows).toBe(16);
    });

    it('a dry run and a replay without a fix say what still fails and write nothing', async () => {
      const dry = await replay({ dryRun: true });
      expect(dry).toMatchObject({
        replay: null,
        quarantine: { dataset: 'orders.quarantine', version: 1 },
        checked: { dataset: 'orders', version: 1 },
        base: { dataset: 'orders.clean', version: 1 },
        rows: { quarantined: 6, replayed: 5, released: 0, kept: 6 },
        output: null,
        remainder: null,
        dryRun: true,
      });
      expect(dry.stillFailing).toEqual([
        { checkId: 'range.amount', rows: 2 },
        { checkId: 'not_null.email', rows: 2 },
        { checkId: 'unique.id', rows: 2 },
      ]);
      const none = await replay({});
      expect(none).toMatchObject({ replay: null, output: null, dryRun: false });
      expect(await versions('orders.clean')).toEqual([1]);
      expect(await versions('orders.quarantine')).toEqual([1]);
    });

    it('refuses bad input with a clear error, writing nothing', async () => {
      await expect(replay({ dataset: 'ordrs' })).rejects.toThrow(
        "no dataset 'ordrs' (did you mean 'orders'?)",
      );
      await expect(replay({ version: 9 })).rejects.toThrow(
        "dataset 'orders.quarantine' has no version v9 (latest: v1)",
      );
      await expect(replay({ quarantineDataset: 'orders' })).rejects.toThrow(
        'orders v1 was not written by a quality task (it was written by etl/r1/write_1)',
      );
      await expect(replay({ quarantineDataset: 'orders.clean' })).rejects.toThrow(
        "orders.clean v1 is not a quarantine: task etl.check_2 wrote it, but its failing rows go to 'orders.quarantine'",
      );
      await expect(
        replay({ dataset: 'events', quarantineDataset: 'orders.quarantine' }),
      ).rejects.toThrow(
        "orders.quarantine v1 holds failing rows of dataset 'orders' (task etl.check_2), not of 'events'",
      );
      await expect(replay({ checks: ['range.amount', 'nope'] })).rejects.toThrow(
        "no rows of orders.quarantine v1 were quarantined by 'nope' (its checks: not_null.email, range.amount, unique.id)",
      );
      await expect(
        replay({ fix: 'update quarantined set amount = abs(amount) wher id = 3' }),
      ).rejects.toThrow(
        /^--fix failed on table 'quarantined', nothing was written: DuckDB error: Parser Error: syntax error at or near "wher"/,
      );
      await expect(replay({ fix: 'delete from quarantined where id = 7' })).rejects.toThrow(
        "--fix added, removed or renumbered rows of 'quarantined' (5 rows before, 4 after)",
      );
      await expect(
        replay({ fix: 'select * replace (amount::varchar as amount) from quarantined' }),
      ).rejects.toThrow("--fix changed the columns of 'quarantined'");
      expect(await versions('orders.clean')).toEqual([1]);
      expect(await versions('orders.quarantine')).toEqual([1]);
      expect(staging()).toBe(0);
      expect(
        await qualityDb(h.store.db).selectFrom('quality_replays').select('id').execute(),
      ).toEqual([]);
    });

    it('releases the rows that pass after the fix, keeps the rest, and records it all', async () => {
      // A DAG scheduled on the clean output hears of the new version.
      await h.store.db
        .insertInto('dags')
        .values({
          dag_id: 'consumer',
          fileloc: path.join(h.pipelineDir, 'consumer.ts'),
          code_hash: 'c',
          version_hash: 'c',
          spec: toJson(
            dagSpec({
              dagId: 'consumer',
              datasetSchedule: ['orders.clean'],
              tasks: [{ taskId: 't' }],
            }),
          ),
          is_paused: false,
          is_active: true,
          next_run_after: null,
          last_parsed_at: new Date(),
        })
        .execute();
      const done = await replay({
        checks: ['range.amount', 'not_null.email'],
        fix: "update quarantined set amount = abs(amount) where amount < 0;\nupdate quarantined set email = 'fixed@example.com' where id = 5",
      });
      expect(done).toMatchObject({
        replay: expect.any(Number),
        rows: { quarantined: 6, replayed: 3, released: 2, kept: 3 },
        stillFailing: [{ checkId: 'not_null.email', rows: 1 }],
        output: { dataset: 'orders.clean', version: 2 },
        remainder: { dataset: 'orders.quarantine', version: 2 },
      });
      // The clean version: v1's 16 rows and the two that pass now, fixed.
      const clean = await rowsOf('orders.clean');
      expect(clean).toHaveLength(18);
      expect(clean.filter((r) => r.id === 3 || r.id === 5)).toEqual([
        { id: 3, amount: 3, email: 'u3@example.com' },
        { id: 5, amount: 5, email: 'fixed@example.com' },
      ]);
      expect(clean.filter((r) => !(r.id === 3 || r.id === 5))).toEqual(
        await rowsOf('orders.clean@v1'),
      );
      // The new quarantine: row 7 still failing (fixed amount, no e-mail), and both copies
      // of row 8, not selected, as they were.
      expect(await rowsOf('orders.quarantine', 'id, _check_id')).toEqual([
        { id: 7, amount: 7, email: null, _check_id: 'not_null.email', _reason: "'email' is null" },
        {
          id: 8,
          amount: 8,
          email: 'u8@example.com',
          _check_id: 'unique.id',
          _reason: 'duplicate key ("id")',
        },
        {
          id: 8,
          amount: 8,
          email: 'u8@example.com',
          _check_id: 'unique.id',
          _reason: 'duplicate key ("id")',
        },
      ]);
      const output = await h.ops.showVersion('orders.clean');
      expect(output.blockingChecksPassed).toBe(
        (await h.ops.showVersion('orders.clean@v1')).blockingChecksPassed,
      );
      expect(output.producedBy).toMatchObject({
        dagId: 'etl',
        runId: 'r1',
        taskId: 'check_2:replay',
      });
      expect(output.manifest.producedBy.tryNumber).toBe(0);
      expect(output.manifest.inputs).toEqual([
        { dataset: 'orders.quarantine', version: 1 },
        { dataset: 'orders.clean', version: 1 },
      ]);
      expect(output.manifest.replay).toMatchObject({
        id: done.replay,
        from: { dataset: 'orders.quarantine', version: 1 },
        checked: { dataset: 'orders', version: 1 },
        base: { dataset: 'orders.clean', version: 1 },
        checks: ['range.amount', 'not_null.email'],
        rows: { replayed: 3, released: 2, kept: 3 },
        by: 'tester',
      });
      expect(output.manifest.replay?.fix).toContain('abs(amount)');
      expect((await h.ops.lineage('orders.clean')).upstream).toEqual(
        expect.arrayContaining(['orders', 'orders.quarantine']),
      );
      expect((await h.ops.aliasHistory('orders.clean', 'latest'))[0]).toMatchObject({
        toVersion: 2,
        reason: `replay ${done.replay} of orders.quarantine v1 by tester`,
      });
      expect(staging()).toBe(0);
      expect(
        await h.store.db
          .selectFrom('dataset_trigger_queue')
          .select(['dag_id', 'dataset'])
          .execute(),
      ).toEqual([{ dag_id: 'consumer', dataset: 'orders.clean' }]);
    });

    it('replays a version once: again is refused, and the rows still quarantined replay from the new version', async () => {
      await expect(replay({ version: 1 })).rejects.toThrow(
        /orders.quarantine v1 was replayed already \(replay \d+ by tester on .*: 2 rows into orders.clean v2, 3 kept in orders.quarantine v2\); replay v2 for the rows still quarantined/,
      );
      await expect(replay({ version: 1, dryRun: true })).rejects.toThrow('was replayed already');
      // The remainder carries its origin: the same checks, onto the clean version v2.
      const second = await replay({
        fix: "update quarantined set email = 'seven@example.com' where id = 7",
      });
      expect(second).toMatchObject({
        quarantine: { version: 2 },
        checked: { dataset: 'orders', version: 1 },
        base: { dataset: 'orders.clean', version: 2 },
        rows: { quarantined: 3, replayed: 3, released: 1, kept: 2 },
        stillFailing: [{ checkId: 'unique.id', rows: 2 }],
        output: { version: 3 },
        remainder: { version: 3 },
      });
      expect(await rowsOf('orders.clean')).toHaveLength(19);
      // Every row is accounted for: 21 checked = 19 clean + 2 still quarantined.
      expect((await rowsOf('orders.quarantine')).map((r) => r.id)).toEqual([8, 8]);
      const replays = await qualityDb(h.store.db)
        .selectFrom('quality_replays')
        .select([
          'quarantine_version',
          'output_version',
          'remainder_version',
          'rows_released',
          'rows_kept',
        ])
        .orderBy('id')
        .execute();
      expect(
        replays.map((r) => ({
          ...r,
          rows_released: Number(r.rows_released),
          rows_kept: Number(r.rows_kept),
        })),
      ).toEqual([
        {
          quarantine_version: 1,
          output_version: 2,
          remainder_version: 2,
          rows_released: 2,
          rows_kept: 3,
        },
        {
          quarantine_version: 2,
          output_version: 3,
          remainder_version: 3,
          rows_released: 1,
          rows_kept: 2,
        },
      ]);
    });

    it('two replays of one version at once: one commits, the other is refused', async () => {
      // A fresh check of the same data: quarantine v4, clean v4.
      await check('orders', CHECKS);
      await recordDagVersion();
      const fix =
        "update quarantined set amount = abs(amount), email = coalesce(email, 'x@example.com')";
      const results = await Promise.allSettled([
        replay({ fix, checks: ['range.amount', 'not_null.email'] }),
        replay({ fix, checks: ['range.amount', 'not_null.email'] }),
      ]);
      const ok = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r) => r.status === 'rejected');
      expect(ok).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect(String((refused[0] as PromiseRejectedResult).reason)).toMatch(
        /replayed (already|meanwhile)/,
      );
      expect(await versions('orders.clean')).toEqual([5, 4, 3, 2, 1]);
      expect((await rowsOf('orders.clean')).length).toBe(16 + 3);
    });

    it('refuses to add rows to a clean version that was superseded, unless asked; the checks keep duplicates out', async () => {
      // orders.quarantine v3 (replay 2's remainder, two copies of row 8) was held back
      // from orders.clean v3; the output is at v5 now.
      await expect(replay({ version: 3 })).rejects.toThrow(
        "'orders.clean' moved on to v5 since v3, the version the rows of orders.quarantine v3 were held back from",
      );
      // Onto v5, which has no row 8: the two copies still duplicate each other.
      const onto = await replay({ version: 3, ontoLatest: true, dryRun: true });
      expect(onto).toMatchObject({
        base: { dataset: 'orders.clean', version: 5 },
        rows: { replayed: 2, released: 0, kept: 2 },
        stillFailing: [{ checkId: 'unique.id', rows: 2 }],
      });
      // One copy renumbered: it passes, and the other copy too (its key is unique now).
      const renumbered = await replay({
        version: 3,
        ontoLatest: true,
        fix: 'update quarantined set id = 108 where _updraft_row = 1',
      });
      expect(renumbered).toMatchObject({
        rows: { released: 2, kept: 0 },
        output: { version: 6 },
        remainder: null,
      });
      expect(
        (await rowsOf('orders.clean')).filter((r) => r.id === 8 || r.id === 108).map((r) => r.id),
      ).toEqual([8, 108]);
    });

    it('of two equal rows, the published one stays and the replayed copy fails duplicate_rows', async () => {
      expect(await rowsOf('events.quarantine', 'id')).toEqual([
        { id: 1, kind: 'a', _check_id: 'duplicate_rows', _reason: 'duplicate row' },
      ]);
      const dry = await replayQuarantine(h.store, h.storage, {
        dataset: 'events',
        actor: 'tester',
        dryRun: true,
      });
      expect(dry).toMatchObject({
        rows: { quarantined: 1, replayed: 1, released: 0, kept: 1 },
        stillFailing: [{ checkId: 'duplicate_rows', rows: 1 }],
      });
      const fixed = await replayQuarantine(h.store, h.storage, {
        dataset: 'events',
        actor: 'tester',
        fix: "update quarantined set kind = 'c'",
      });
      expect(fixed).toMatchObject({ rows: { released: 1, kept: 0 }, remainder: null });
      expect(await rowsOf('events.clean', 'id, kind')).toEqual([
        { id: 1, kind: 'a' },
        { id: 1, kind: 'c' },
        { id: 2, kind: 'b' },
      ]);
    });
  });
}

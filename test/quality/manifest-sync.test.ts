/**
 * A version's `manifest.json` and its registry row agree on the quality summary whatever
 * happens to the transaction that records a quality run: committed, both change; rolled
 * back (the whole transaction, or the savepoint the scheduler commits each attempt in),
 * neither does. The file is written from the committed row after the commit
 * (`afterCommit`), never before it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/data/manifest.ts';
import { withQualityHooks } from '../../src/quality/quality-hooks.ts';
import type { HookTarget } from '../../src/scheduler/attempt-hooks.ts';
import { withSavepoint } from '../../src/store/savepoint.ts';
import { type DataHarness, openDataHarness } from '../data/support.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

for (const backend of STORE_BACKENDS) {
  describe(`the quality summary in manifest.json on ${backend.name}`, () => {
    let h: DataHarness;
    let run: { runPk: number; dagId: string; runId: string };
    let n = 0;

    beforeAll(async () => {
      h = await openDataHarness(backend, {
        wrapHooks: (hooks, home) => withQualityHooks(hooks, { home }),
      });
      run = { runPk: await h.createRun('etl', 'r1'), dagId: 'etl', runId: 'r1' };
      const made = await h.runTask(run, {
        taskId: 'make',
        operator: 'duckdb',
        config: {
          query: 'select range as id, range - 2 as amount from range(20)',
          output: 'orders',
        },
      });
      expect(made.outcome.error?.message).toBeUndefined();
    });
    afterAll(async () => {
      await h?.close();
    });

    /** Runs a quality task without committing it: its effects and hook target. */
    const checkedNotCommitted = async (min: number) => {
      const taskId = `check_${++n}`;
      const done = await h.runTask(
        run,
        {
          taskId,
          operator: 'quality',
          inlets: ['orders'],
          config: { checks: [{ type: 'range', column: 'amount', min }] } as never,
        },
        { commit: false },
      );
      expect(done.outcome.error?.message).toBeUndefined();
      const target: HookTarget = { ...run, task: done.task, mapIndex: -1, tryNumber: 1 };
      return { effects: done.outcome.effects ?? [], target };
    };
    const summaries = async () => {
      const version = await h.ops.showVersion('orders@v1');
      const file = JSON.parse(
        readFileSync(path.join(version.location, 'manifest.json'), 'utf8'),
      ) as Manifest;
      return { row: version.manifest.quality, file: file.quality };
    };

    it('writes the summary to both when the transaction commits', async () => {
      const { effects, target } = await checkedNotCommitted(-100);
      await h.store.transaction((tx) => h.hooks.commitEffects(tx, target, effects));
      const { row, file } = await summaries();
      expect(row?.taskId).toBe(target.task.taskId);
      expect(row?.counts).toEqual({ pass: 1, warn: 0, error: 0, skipped: 0 });
      expect(file).toEqual(row);
    });

    it('leaves both as they were when the transaction rolls back', async () => {
      const before = await summaries();
      const { effects, target } = await checkedNotCommitted(0);
      await expect(
        h.store.transaction(async (tx) => {
          await h.hooks.commitEffects(tx, target, effects);
          throw new Error('the tick failed after the commit hook');
        }),
      ).rejects.toThrow('the tick failed');
      const after = await summaries();
      expect(after.row).toEqual(before.row);
      expect(after.file).toEqual(before.row);
    });

    it('leaves both as they were when the savepoint of the attempt rolls back', async () => {
      const before = await summaries();
      const { effects, target } = await checkedNotCommitted(0);
      await h.store.transaction(async (tx) => {
        // As the scheduler commits each attempt's effects: a savepoint, undone on failure.
        await withSavepoint(tx, async () => {
          await h.hooks.commitEffects(tx, target, effects);
          throw new Error('a later effect of the attempt failed');
        }).catch(() => undefined);
      });
      const after = await summaries();
      expect(after.row).toEqual(before.row);
      expect(after.file).toEqual(before.row);
      // The next commit that does go through brings both forward together.
      const next = await checkedNotCommitted(0);
      await h.store.transaction((tx) => h.hooks.commitEffects(tx, next.target, next.effects));
      const latest = await summaries();
      expect(latest.row?.taskId).toBe(next.target.task.taskId);
      expect(latest.row?.counts.error).toBe(1);
      expect(latest.file).toEqual(latest.row);
    });
  });
}

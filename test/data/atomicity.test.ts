import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskSpec } from '../support/specs.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import { attemptRequest, type DataHarness, openDataHarness, readVersionRows } from './support.ts';

const SCRIPT = path.join(import.meta.dirname, 'fixtures', 'run-attempt.ts');

for (const backend of STORE_BACKENDS) {
  describe(`atomic versions on ${backend.name}`, () => {
    let h: DataHarness;
    beforeAll(async () => {
      h = await openDataHarness(backend);
    });
    afterAll(async () => {
      await h?.close();
    });

    it('an attempt killed mid-write leaves no version; the retry succeeds; vacuum removes the leftovers', async () => {
      // Try 1 writes 40 million rows (seconds); the retry writes 1 000.
      const task = taskSpec({
        taskId: 'big',
        operator: 'duckdb',
        config: {
          query:
            'select range as id, md5(range::varchar) as h from range(case when {{ try_number }} = 1 then 40000000 else 1000 end)',
          output: 'big',
          threads: 1,
        },
      });
      const run = { runPk: await h.createRun('atomic', 'r1'), dagId: 'atomic', runId: 'r1' };
      const request = attemptRequest(h, run, task, 1);
      const requestFile = path.join(h.home, 'request.json');
      writeFileSync(requestFile, JSON.stringify(request));
      const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, requestFile], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        child.on('exit', (code, signal) => resolve({ code, signal })),
      );
      // Wait until Parquet data is being written into the staging folder, then kill -9.
      const stagingRoot = path.join(h.datasetsRoot, '.staging');
      const deadline = Date.now() + 60_000;
      for (;;) {
        const writing = existsSync(stagingRoot)
          ? readdirSync(stagingRoot, { withFileTypes: true })
              .filter((e) => e.isDirectory())
              .some((e) => readdirSync(path.join(stagingRoot, e.name)).length > 0)
          : false;
        if (writing) break;
        if (Date.now() > deadline) throw new Error('the attempt never started writing');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      child.kill('SIGKILL');
      expect(await exited).toEqual({ code: null, signal: 'SIGKILL' });

      expect(await h.ops.listDatasets()).toEqual([]);
      expect(existsSync(path.join(h.datasetsRoot, 'big'))).toBe(false);
      const leftovers = await h.storage.listStaging();
      expect(leftovers).toHaveLength(1);
      expect(leftovers[0]?.meta).toMatchObject({ dataset: 'big', tryNumber: 1 });

      const retry = await h.runTask(run, task, { tryNumber: 2 });
      expect(retry.outcome.error?.message).toBeUndefined();
      const v1 = await h.ops.showVersion('big');
      expect(v1).toMatchObject({ version: 1, rows: 1000 });
      expect(v1.producedBy.tryNumber).toBe(2);
      expect((await readVersionRows(v1.location, 'id')).length).toBe(1000);

      const report = await h.ops.vacuum();
      expect(report.removedStaging).toEqual([leftovers[0]?.rel]);
      expect(await h.storage.listStaging()).toEqual([]);
    });

    it('a commit of effects from another attempt, or of a missing staging folder, is refused', async () => {
      const run = { runPk: await h.createRun('atomic', 'r2'), dagId: 'atomic', runId: 'r2' };
      const task = {
        taskId: 'w',
        operator: 'duckdb',
        config: { query: 'select 1 as x', output: 'small' },
      };
      const written = await h.runTask(run, task, { commit: false });
      const effects = written.outcome.effects ?? [];
      expect(effects).toHaveLength(1);
      const target = { ...run, task: written.task, mapIndex: -1, tryNumber: 2 };
      await expect(
        h.store.transaction((tx) => h.hooks.commitEffects(tx, target, effects)),
      ).rejects.toThrow("the staged version of dataset 'small'");
      const forged = [
        {
          kind: 'dataset_version',
          data: { ...(effects[0]?.data as object), staging: '../../etc' },
        },
      ];
      await expect(
        h.store.transaction((tx) =>
          h.hooks.commitEffects(tx, { ...target, tryNumber: 1 }, forged as never),
        ),
      ).rejects.toThrow("'../../etc' is not a staging folder");
      expect((await h.ops.listDatasets()).map((d) => d.name)).not.toContain('small');
      // The genuine commit still works.
      await h.store.transaction((tx) =>
        h.hooks.commitEffects(tx, { ...target, tryNumber: 1 }, effects),
      );
      expect((await h.ops.showVersion('small')).rows).toBe(1);
    });
  });
}

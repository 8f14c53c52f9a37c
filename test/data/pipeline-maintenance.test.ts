/**
 * Maintenance from a pipeline (`maintain` tasks), on both stores: versions beyond the
 * rules are retired with the task's success and their files removed by a later
 * maintenance, never an aliased version; a version of many small files is compacted
 * into one, same rows; a failed attempt retires nothing; bad configs
 * are refused at load time, and a maintain task without inlets says what to add.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreDatasetOperations } from '../../src/data/dataset-operations.ts';
import { SecretBox } from '../../src/data/secret-box.ts';
import { datasetsRootForHome, LocalDatasetStorage } from '../../src/data/storage.ts';
import { YamlSource } from '../../src/loader/yaml/yaml-source.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import { fragmentVersion, readVersionRows } from './support.ts';

/** Each run writes a new version of `events`, then keeps the last two. */
const YAML_PIPELINE = `
dags:
  maintained:
    tasks:
      make:
        operator: duckdb
        outlets: [events]
        config:
          query: "select range as id, '{{ run_id }}' as run from range(5)"
          output: events
      maintain:
        operator: maintain
        upstream: [make]
        inlets: [events]
        config: { keepLast: 2, removeAfterMinutes: 0 }
  compacted:
    tasks:
      maintain:
        operator: maintain
        inlets: [events]
        config: { keepLast: 100, targetFileMB: 64 }
  no_inlets:
    tasks:
      maintain:
        operator: maintain
        config: {}
`;

const TS_PIPELINE = `
import { dag } from 'updraft';

// The attempt asks for retention of every version but one, then fails: nothing retires.
export const failing = dag({ id: 'maintain_failing' }, (d) => {
  d.task('retain_then_fail', { inlets: ['events'] }, (ctx) => {
    const input = ctx.inputs.events as { dataset: string };
    ctx.addEffect({ kind: 'dataset_retention', data: { dataset: input.dataset, keepLast: 1, keepDays: null, removeAfterMinutes: 0 } });
    throw new Error('failed after asking for retention');
  });
});
`;

describe('maintain task configs', () => {
  it('refuses a bad keepLast at load time, naming the file, line and field', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'updraft-maintain-'));
    try {
      const file = path.join(dir, 'p.yaml');
      writeFileSync(file, YAML_PIPELINE.replace('keepLast: 2', 'keepLast: 0'));
      const [result] = await new YamlSource({ pipelinesDir: dir }).load([file]);
      expect(result?.issues).toEqual([
        {
          file,
          line: 15,
          column: 29,
          dagId: 'maintained',
          field: 'dags.maintained.tasks.maintain.config.keepLast',
          message: 'must be >= 1, got 0',
          hint: 'Versions kept per dataset, newest first (default 24).',
        },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const backend of STORE_BACKENDS) {
  describe(`maintain tasks through the engine on ${backend.name}`, () => {
    let rt: TestRuntime | undefined;
    afterEach(async () => {
      await rt?.close();
      rt = undefined;
    });

    it('retires versions beyond keepLast with the success, keeps aliased ones, removes files at the next maintenance, and nothing for a failed attempt', async () => {
      rt = await startTestRuntime(backend, {
        'maintained.yaml': YAML_PIPELINE,
        'failing.ts': TS_PIPELINE,
      });
      const started = rt;
      const ops = new StoreDatasetOperations({
        store: rt.runtime.store,
        storage: new LocalDatasetStorage(datasetsRootForHome(rt.home)),
        secrets: () => SecretBox.fromEnv({}),
        connectionsFile: `${rt.home}/connections.yaml`,
      });
      const run = async (dagId: string, runId: string) => {
        await started.runtime.ops.triggerRun(dagId, { runId });
        return (await started.waitForRun(dagId, runId, 90_000)).state;
      };
      /** Version → [retired, files on disk], oldest first. */
      const state = async () =>
        Object.fromEntries(
          (await ops.listVersions('events'))
            .reverse()
            .map((v) => [v.version, [v.deletedAt !== null, existsSync(v.location)]]),
        );

      expect(await run('maintained', 'r1')).toBe('success');
      await ops.promote('events', 1, 'staging', { actor: { name: 'tester', role: 'admin' } });
      expect(await run('maintained', 'r2')).toBe('success');
      expect(await run('maintained', 'r3')).toBe('success');
      // v1 is beyond the last two but aliased: kept.
      expect(await state()).toEqual({
        1: [false, true],
        2: [false, true],
        3: [false, true],
      });
      expect(await run('maintained', 'r4')).toBe('success');
      // v2 is retired with r4's success; its files stay for readers until the next one.
      expect(await state()).toEqual({
        1: [false, true],
        2: [true, true],
        3: [false, true],
        4: [false, true],
      });

      // A failed attempt asking for keepLast 1 retires nothing.
      expect(await run('maintain_failing', 'f1')).toBe('failed');
      expect(await state()).toEqual({
        1: [false, true],
        2: [true, true],
        3: [false, true],
        4: [false, true],
      });

      expect(await run('maintained', 'r5')).toBe('success');
      expect(await state()).toEqual({
        1: [false, true],
        2: [true, false],
        3: [true, true],
        4: [false, true],
        5: [false, true],
      });
      expect((await ops.showVersion('events@staging')).version).toBe(1);
      expect((await ops.showVersion('events@staging')).rows).toBe(5);
      expect(
        (await started.runtime.ops.getTaskInstance('maintained', 'r5', 'maintain')).result,
      ).toEqual({
        datasets: ['events'],
        compacted: [],
        keepLast: 2,
        keepDays: null,
        removeAfterMinutes: 0,
      });

      // Compaction: v5 made of many small files is rewritten into one with the success.
      const fragmented = await fragmentVersion(started.runtime.store, ops, 'events', 5);
      expect(fragmented).toEqual({ files: 6, rows: 10 });
      const before = await ops.showVersion('events@v5');
      expect(await run('compacted', 'c1')).toBe('success');
      expect(
        (await started.runtime.ops.getTaskInstance('compacted', 'c1', 'maintain')).result,
      ).toMatchObject({
        compacted: [{ dataset: 'events', version: 5, filesBefore: 6, filesAfter: 1 }],
      });
      const after = await ops.showVersion('events@v5');
      expect(after).toMatchObject({ rows: 10, files: 1 });
      expect(after.location).toBe(`${before.location}.c1`);
      expect(await readVersionRows(after.location, 'id, run')).toEqual(
        await readVersionRows(before.location, 'id, run'),
      );
      // The old folder stays for readers (vacuum removes it as an orphan later).
      expect(existsSync(before.location)).toBe(true);
      expect(await run('compacted', 'c2')).toBe('success');
      expect(
        (await started.runtime.ops.getTaskInstance('compacted', 'c2', 'maintain')).result,
      ).toMatchObject({ compacted: [] });

      // Without inlets: fails without retry, saying what to add.
      expect(await run('no_inlets', 'n1')).toBe('failed');
      const attempts = (await started.runtime.ops.getTaskInstance('no_inlets', 'n1', 'maintain'))
        .attempts;
      expect(attempts).toHaveLength(1);
      expect(attempts[0]?.error).toMatch(/add the datasets to maintain to 'inlets'/);
    }, 300_000);
  });
}

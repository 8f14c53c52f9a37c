/**
 * The `maintain` operator: compaction and retention for the datasets a pipeline writes,
 * as a task. For each of the task's inlets:
 *
 * - compaction (`compact`, default on): when the pinned version is made of several
 *   files, two or more under half of `targetFileMB`, the worker rewrites its rows into
 *   fewer files in a staging folder and reports a `version_compaction` effect; the
 *   engine swaps the version's folder with the task's success, fenced on the folder the
 *   worker read (`compaction.ts`, `pipeline-maintenance.ts`);
 * - retention: it asks for the retention rules of `updraft datasets
 * vacuum` (keep the last `keepLast` versions, and those younger than `keepDays`; never
 * an aliased version or one an unfinished run pinned). The worker only asks: it reports
 * a `dataset_retention` effect per dataset, and the engine retires the versions in the
 * transaction that records the task's success; their files are removed by a later
 * maintenance, `removeAfterMinutes` after they were retired at the earliest
 * (`pipeline-maintenance.ts`). A failed or superseded attempt changes nothing.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import type { Json } from '../../core/dag-spec.ts';
import { TaskFailure } from '../../core/errors.ts';
import type { Operator, OperatorContext } from '../../operators/operator.ts';
import { compactedPath, isFragmented, rewriteFiles } from '../compaction.ts';
import { compactionEffect, retentionEffect } from '../effects.ts';
import { MANIFEST_FILE, type Manifest } from '../manifest.ts';
import { writeManifestFile } from '../manifest-file.ts';
import { withScratchDuckDb } from '../scratch.ts';
import { attemptStagingMeta } from '../stage-version.ts';
import { LocalDatasetStorage } from '../storage.ts';
import { datasetsRootOf, inputFolder, type PinnedInput, pinnedInput } from '../task-inputs.ts';

export const maintainConfigSchema = Type.Object(
  {
    keepLast: Type.Integer({
      minimum: 1,
      default: 24,
      description: 'Versions kept per dataset, newest first (default 24).',
    }),
    keepDays: Type.Optional(
      Type.Number({
        minimum: 0,
        description: 'Also keep versions younger than this many days (default: no age rule).',
      }),
    ),
    compact: Type.Boolean({
      default: true,
      description:
        'Rewrite the pinned version of each inlet into fewer files when it is made of several small ones (default true).',
    }),
    targetFileMB: Type.Integer({
      minimum: 1,
      default: 256,
      description: 'Target size of a compacted Parquet file, in MB (default 256).',
    }),
    removeAfterMinutes: Type.Number({
      minimum: 0,
      default: 10,
      description:
        'The files of a retired version are removed by a later maintenance at least this many minutes after it was retired, so readers that resolved it just before can finish (default 10).',
    }),
  },
  {
    additionalProperties: false,
    description:
      "Compaction and retention of the task's inlets: fragmented versions are rewritten into fewer files, and versions beyond keepLast (and keepDays) retired, with the task's success (never aliased or pinned ones); retired files are removed by a later maintenance.",
  },
);

export type MaintainConfig = Static<typeof maintainConfigSchema>;

export const maintainOperator: Operator<MaintainConfig> = {
  name: 'maintain',
  description:
    "Compaction and retention of the task's inlets: rewrites fragmented versions into fewer files and retires versions beyond keepLast/keepDays, with the task's success (aliased and pinned ones are kept).",
  configSchema: maintainConfigSchema,
  async run(config, ctx): Promise<Json> {
    const inlets = ctx.attempt.task.inlets;
    if (inlets.length === 0) {
      throw new TaskFailure(
        `task '${ctx.taskId}': a maintain task works on its inlets; add the datasets to maintain to 'inlets'`,
        { retry: false },
      );
    }
    const inputs = new Map<string, PinnedInput>();
    for (const ref of inlets) {
      const input = pinnedInput(ctx, ref);
      if (!inputs.has(input.dataset)) inputs.set(input.dataset, input);
    }
    const datasets = [...inputs.keys()];
    const compacted = config.compact
      ? await compactInputs(ctx, [...inputs.values()], config.targetFileMB * 1024 * 1024)
      : [];
    for (const dataset of datasets) {
      ctx.addEffect(
        retentionEffect({
          dataset,
          keepLast: config.keepLast,
          keepDays: config.keepDays ?? null,
          removeAfterMinutes: config.removeAfterMinutes,
        }),
      );
    }
    ctx.log.info(`asking for retention of ${datasets.length} dataset(s)`, {
      datasets: datasets.join(', '),
      keep_last: config.keepLast,
      keep_days: config.keepDays ?? null,
    });
    return {
      datasets,
      compacted,
      keepLast: config.keepLast,
      keepDays: config.keepDays ?? null,
      removeAfterMinutes: config.removeAfterMinutes,
    };
  },
};

/**
 * Rewrites each fragmented input version into a staging folder and reports it; returns
 * what it compacted (`dataset@version: files before → after`).
 */
async function compactInputs(
  ctx: OperatorContext,
  inputs: readonly PinnedInput[],
  targetFileBytes: number,
): Promise<Json[]> {
  const storage = new LocalDatasetStorage(datasetsRootOf(ctx));
  const done: Json[] = [];
  for (const input of inputs) {
    const folder = inputFolder(ctx, input);
    const manifest = JSON.parse(
      await readFile(path.join(folder, MANIFEST_FILE), 'utf8'),
    ) as Manifest;
    if (!isFragmented(manifest.files, targetFileBytes)) continue;
    const what = `task '${ctx.taskId}' compacting dataset '${input.dataset}' v${input.version}`;
    const staged = await storage.createStaging(attemptStagingMeta(ctx, input.dataset));
    const described = await withScratchDuckDb(ctx, {}, (session) =>
      rewriteFiles(session, folder, staged.dir, targetFileBytes, what),
    );
    if (described.rowCount !== input.rows) {
      throw new TaskFailure(
        `${what}: the rewrite has ${described.rowCount} rows, the version ${input.rows}`,
      );
    }
    const next: Manifest = { ...manifest, files: described.files, bytes: described.bytes };
    await writeManifestFile(staged.dir, next);
    ctx.addEffect(
      compactionEffect({
        dataset: input.dataset,
        version: input.version,
        fromPath: input.path,
        staging: staged.rel,
        manifest: next,
      }),
    );
    ctx.log.info(`compacted dataset '${input.dataset}' v${input.version}`, {
      dataset: input.dataset,
      version: input.version,
      files_before: manifest.files.length,
      files_after: described.files.length,
      path: compactedPath(input.path),
    });
    done.push({
      dataset: input.dataset,
      version: input.version,
      filesBefore: manifest.files.length,
      filesAfter: described.files.length,
    });
  }
  return done;
}

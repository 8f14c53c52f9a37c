/**
 * The `maintain` operator: retention for the datasets a pipeline writes, as a task.
 * For each of the task's inlets it asks for the retention rules of `updraft datasets
 * vacuum` (keep the last `keepLast` versions, and those younger than `keepDays`; never
 * an aliased version or one an unfinished run pinned). The worker only asks: it reports
 * a `dataset_retention` effect per dataset, and the engine retires the versions in the
 * transaction that records the task's success; their files are removed by a later
 * maintenance, `removeAfterMinutes` after they were retired at the earliest
 * (`pipeline-maintenance.ts`). A failed or superseded attempt changes nothing.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { Json } from '../../core/dag-spec.ts';
import { TaskFailure } from '../../core/errors.ts';
import type { Operator } from '../../operators/operator.ts';
import { retentionEffect } from '../effects.ts';
import { pinnedInput } from '../task-inputs.ts';

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
      "Retention of the task's inlets: versions beyond keepLast (and keepDays) are retired with the task's success, never aliased or pinned ones; their files are removed by a later maintenance.",
  },
);

export type MaintainConfig = Static<typeof maintainConfigSchema>;

export const maintainOperator: Operator<MaintainConfig> = {
  name: 'maintain',
  description:
    "Retention of the task's inlets: retires versions beyond keepLast/keepDays with the task's success (aliased and pinned ones are kept).",
  configSchema: maintainConfigSchema,
  async run(config, ctx): Promise<Json> {
    const inlets = ctx.attempt.task.inlets;
    if (inlets.length === 0) {
      throw new TaskFailure(
        `task '${ctx.taskId}': a maintain task works on its inlets; add the datasets to maintain to 'inlets'`,
        { retry: false },
      );
    }
    const datasets = [...new Set(inlets.map((ref) => pinnedInput(ctx, ref).dataset))];
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
      keepLast: config.keepLast,
      keepDays: config.keepDays ?? null,
      removeAfterMinutes: config.removeAfterMinutes,
    };
  },
};

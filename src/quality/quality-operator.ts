/**
 * The `quality` operator: runs checks on a dataset version — one of the task's inlets,
 * so also the version an upstream task just wrote — in DuckDB, writes failing rows to
 * quarantine, and reports the results as a `quality_results` effect. The results are
 * committed with the task's success (`quality-hooks.ts`), which also fails the task when
 * a blocking check failed, keeping the results, so downstream tasks do not run and the
 * version cannot be promoted.
 */
import path from 'node:path';
import type { Json } from '../core/dag-spec.ts';
import { splitInlet } from '../core/dataset-ref.ts';
import { DuckDbSession, readParquetSql } from '../data/duckdb-session.ts';
import { parseRef } from '../data/names.ts';
import { withScratch } from '../data/scratch.ts';
import { chosenInput, createInputViews, datasetsRootOf, inputFolder } from '../data/task-inputs.ts';
import { traceStep } from '../observability/tracing.ts';
import type { Operator } from '../operators/operator.ts';
import { DATA_VIEW, PREVIOUS_VIEW } from './check-plan.ts';
import { runChecks } from './check-runner.ts';
import { type QualityConfig, qualityConfigSchema } from './check-spec.ts';
import {
  QUALITY_INPUT_KEY,
  type QualityInput,
  type QualityRun,
  qualityResultsEffect,
} from './effects.ts';
import { writeQuarantine } from './quarantine.ts';

export const qualityOperator: Operator<QualityConfig> = {
  name: 'quality',
  description: 'Data quality checks on a dataset version in DuckDB, with quarantine and gates.',
  configSchema: qualityConfigSchema,
  async run(config, ctx): Promise<Json> {
    const inlets = ctx.attempt.task.inlets;
    const { input } = chosenInput(ctx, config.dataset, 'check');
    const context = (ctx.attempt.context.inputs?.[QUALITY_INPUT_KEY] ?? {
      previous: null,
      history: {},
    }) as unknown as QualityInput;
    return withScratch(ctx, async (dir) => {
      const session = await DuckDbSession.open({
        memoryLimit: config.memoryLimit,
        ...(config.threads === undefined ? {} : { threads: config.threads }),
        tempDirectory: path.join(dir, 'spill'),
        signal: ctx.signal,
      });
      try {
        const what = `task '${ctx.taskId}'`;
        await session.run(`set TimeZone = 'UTC'`, what);
        // One view per inlet, named after its dataset (named explicitly: the quality
        // context is in `inputs` too).
        await createInputViews(
          ctx,
          session,
          Object.fromEntries(inlets.map((r) => [parseRef(splitInlet(r).ref).name, r])),
        );
        await session.run(
          `create or replace view ${DATA_VIEW} as select * from ${readParquetSql(inputFolder(ctx, input))}`,
          `${what} reading dataset '${input.dataset}' v${input.version}`,
        );
        if (context.previous !== null) {
          const folder = path.join(datasetsRootOf(ctx), context.previous.path);
          await session.run(
            `create or replace view ${PREVIOUS_VIEW} as select * from ${readParquetSql(folder)}`,
            `${what} reading dataset '${input.dataset}' v${context.previous.version}`,
          );
        }
        const observedAt = ctx.dataIntervalStart.toISOString();
        const report = await traceStep(
          `quality checks ${input.dataset} v${input.version}`,
          {
            'updraft.dataset': input.dataset,
            'updraft.version': input.version,
            'updraft.checks': config.checks.length,
          },
          async (span) => {
            const checked = await runChecks({
              session,
              dataset: input.dataset,
              checks: config.checks,
              metrics: config.metrics ?? [],
              inlets,
              history: context.history,
              hasPrevious: context.previous !== null,
              observedAt,
              now: Date.now(),
            });
            span.setAttributes({
              'updraft.rows': checked.rows,
              'updraft.scans': checked.scans,
              'updraft.checks_failed': checked.results.filter(
                (r) => r.status === 'warn' || r.status === 'error',
              ).length,
            });
            return checked;
          },
        );
        const written = await writeQuarantine(ctx, session, report.plan.checks, report.results, {
          quarantine: config.quarantineDataset ?? `${input.dataset}.quarantine`,
          output: config.quarantine ? (config.output ?? `${input.dataset}.clean`) : null,
        });
        const results = report.results.map((r) => ({
          ...r,
          quarantined: config.quarantine && written.checkIds.includes(r.checkId),
        }));
        const run: QualityRun = {
          dataset: input.dataset,
          version: input.version,
          results,
          metrics: report.metrics,
          observedAt,
          rows: report.rows,
          quarantine: written.quarantine,
          output: written.output,
          quarantined: config.quarantine,
        };
        ctx.addEffect(qualityResultsEffect(run));
        const counts = { pass: 0, warn: 0, error: 0, skipped: 0 };
        for (const r of results) {
          counts[r.status]++;
          if (r.status !== 'pass') {
            ctx.log[r.status === 'error' ? 'error' : r.status === 'warn' ? 'warn' : 'info'](
              `check '${r.checkId}' ${r.status}: ${r.message}`,
              { check: r.checkId, status: r.status, value: r.value },
            );
          }
        }
        ctx.log.info(`checked dataset '${input.dataset}' v${input.version}`, {
          rows: report.rows,
          scans: report.scans,
          ...counts,
        });
        return {
          dataset: input.dataset,
          version: input.version,
          rows: report.rows,
          scans: report.scans,
          ...counts,
          quarantine: written.quarantine,
          output: written.output,
        } as unknown as Json;
      } finally {
        session.close();
      }
    });
  },
};

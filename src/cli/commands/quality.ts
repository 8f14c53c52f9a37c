/**
 * `updraft quality results <dataset>` (the latest quality run's results, or every
 * stored result with `--all`) and `updraft quality history <dataset> <metric>` (a
 * metric's values per version, anomalies marked). `--json` prints the
 * `QualityOperations` types of `src/quality/quality-operations.ts` as they are.
 */
import type { Command } from 'commander';
import { CHECK_STATUSES, type CheckStatus } from '../../quality/check-runner.ts';
import type { QualityOperations } from '../../quality/quality-operations.ts';
import { commandLine, settingsOf } from '../context.ts';
import { UsageError } from '../errors.ts';
import { isoTime, printJson, printTable } from '../output.ts';
import { integerArg } from '../parse.ts';
import { versionArg } from './datasets.ts';

/** Runs `fn` with `QualityOperations` on the store (opened as dataset commands open it). */
async function withQualityOperations<T>(
  command: Command,
  fn: (ops: QualityOperations) => Promise<T>,
): Promise<T> {
  const { home, databaseUrl } = settingsOf(command);
  const { openDatasetOperations } = await import('../../data/open-dataset-operations.ts');
  const { StoreQualityOperations } = await import('../../quality/quality-operations.ts');
  const handle = await openDatasetOperations({ home, databaseUrl, command: commandLine(command) });
  try {
    return await fn(new StoreQualityOperations(handle.store));
  } finally {
    await handle.close();
  }
}

function statusesArg(text: string): CheckStatus[] {
  const list = text.split(',').map((s) => s.trim());
  for (const status of list) {
    if (!(CHECK_STATUSES as readonly string[]).includes(status))
      throw new UsageError(`unknown status '${status}': use ${CHECK_STATUSES.join(', ')}`);
  }
  return list as CheckStatus[];
}

const value = (n: number | null) => (n === null ? '-' : String(Number(n.toPrecision(6))));

export function registerQualityCommands(program: Command): void {
  const quality = program
    .command('quality')
    .description('data quality: check results per version and run, metric history');

  quality
    .command('results')
    .description('results of the latest quality run on the dataset (or on one version)')
    .argument('<dataset>', 'dataset name')
    .argument('[version]', 'version number (3 or v3; default: the newest checked)', versionArg)
    .option('--all', 'every stored result, newest first, instead of the latest run')
    .option('--status <list>', 'only these statuses (pass, warn, error, skipped; comma-separated)')
    .option('--limit <n>', 'most results with --all (default 200)', integerArg())
    .option('--json', 'print QualityResultRow[] as JSON')
    .action(
      async (
        dataset: string,
        version: number | undefined,
        opts: { all?: boolean; status?: string; limit?: number; json?: boolean },
        cmd: Command,
      ) => {
        const statuses = opts.status === undefined ? undefined : statusesArg(opts.status);
        await withQualityOperations(cmd, async (ops) => {
          let rows = opts.all
            ? await ops.results(dataset, {
                ...(version === undefined ? {} : { version }),
                ...(statuses === undefined ? {} : { statuses }),
                ...(opts.limit === undefined ? {} : { limit: opts.limit }),
              })
            : await ops.latestResults(dataset, version);
          if (!opts.all && statuses !== undefined)
            rows = rows.filter((r) => statuses.includes(r.status));
          if (opts.json) return printJson(rows);
          printTable(
            [
              'version',
              'check',
              'type',
              'status',
              'blocking',
              'value',
              'failing',
              'message',
              'run',
              'checked',
            ],
            rows.map((r) => [
              `v${r.version}`,
              r.checkId,
              r.type,
              r.status,
              r.blocking ? 'yes' : 'no',
              value(r.value),
              r.failingRows === null
                ? '-'
                : `${r.failingRows}${r.quarantined ? ' (quarantined)' : ''}`,
              r.message,
              `${r.dagId}/${r.runId}`,
              isoTime(r.checkedAt),
            ]),
            'no results match',
          );
        });
      },
    );

  quality
    .command('history <dataset> <metric>')
    .description("a metric's value per version (row_count, null_rate(col), sum(col), ...)")
    .option('--limit <n>', 'most recent versions (default 200)', integerArg())
    .option('--json', 'print MetricPoint[] as JSON')
    .action(
      async (
        dataset: string,
        metric: string,
        opts: { limit?: number; json?: boolean },
        cmd: Command,
      ) => {
        await withQualityOperations(cmd, async (ops) => {
          const points = await ops.metricHistory(dataset, metric, opts.limit);
          if (opts.json) return printJson(points);
          printTable(
            ['version', 'value', 'anomaly', 'observed'],
            points.map((p) => [
              `v${p.version}`,
              value(p.value),
              p.anomaly ? 'yes' : '',
              isoTime(p.at),
            ]),
            `no history of ${metric} for '${dataset}': a quality task records it`,
          );
        });
      },
    );
}

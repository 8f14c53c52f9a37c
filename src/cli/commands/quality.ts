/**
 * `updraft quality results <dataset>` (the latest quality run's results, or every
 * stored result with `--all`), `updraft quality history <dataset> <metric>` (a
 * metric's values per version, anomalies marked) and `updraft quality replay <dataset>`
 * (quarantined rows, fixed and checked again, back into the clean output; ADR 17).
 * `--json` prints the `QualityOperations` types of `src/quality/quality-operations.ts`
 * (and `ReplayReport`) as they are.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { localActor } from '../../auth/local-actor.ts';
import { CHECK_STATUSES, type CheckStatus } from '../../quality/check-runner.ts';
import type { QualityOperations } from '../../quality/quality-operations.ts';
import type { ReplayReport } from '../../quality/quarantine-replay.ts';
import { UsageError } from '../errors.ts';
import { isoTime, printJson, printTable, say } from '../output.ts';
import { integerArg } from '../parse.ts';
import { versionArg, withDataOperations } from './datasets.ts';

/** Runs `fn` with `QualityOperations` (the store itself, or a standalone's control socket). */
function withQualityOperations<T>(
  command: Command,
  fn: (ops: QualityOperations) => Promise<T>,
): Promise<T> {
  return withDataOperations(command, (ops) => fn(ops.quality));
}

/** Prints what a replay did (or would do). */
function printReplay(r: ReplayReport): void {
  const q = `${r.quarantine.dataset} v${r.quarantine.version}`;
  say(
    r.dryRun
      ? `${q}: dry run, nothing written`
      : r.replay === null
        ? `${q}: no replayed row passes the checks; nothing written (${q} stays as it is)`
        : `${q}: replay ${r.replay}`,
  );
  if (r.checked !== null) say(`  checked    ${r.checked.dataset} v${r.checked.version}`);
  say(
    `  rows       ${r.rows.quarantined} quarantined; ${r.rows.replayed} replayed: ${r.rows.released} pass${r.rows.released === 1 ? 'es' : ''}, ${r.rows.kept} stay quarantined`,
  );
  const base = `${r.base.dataset} v${r.base.version}`;
  say(
    r.output === null
      ? `  released   ${r.rows.released} row(s) would join ${base}`
      : `  released   into ${r.output.dataset} v${r.output.version} (${base} + ${r.rows.released} rows)`,
  );
  const failing = r.stillFailing.map((f) => `${f.checkId}: ${f.rows}`).join(', ');
  if (r.rows.kept > 0 || failing !== '')
    say(
      `  kept       ${r.remainder === null ? `${r.rows.kept} row(s)` : `in ${r.remainder.dataset} v${r.remainder.version}`}${failing === '' ? '' : ` (still failing ${failing})`}`,
    );
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

  quality
    .command('replay')
    .description(
      'quarantined rows (optionally fixed with DuckDB SQL) checked again; those that pass join the clean output as a new version, the rest stay quarantined',
    )
    .argument('<dataset>', 'the checked dataset (orders)')
    .option('--from <dataset>', 'its quarantine dataset (default <dataset>.quarantine)')
    .option('--version <n>', 'the quarantine version to replay (default its latest)', versionArg)
    .option('--check <ids>', 'only the rows these checks quarantined (comma-separated)')
    .option(
      '--fix <sql>',
      "DuckDB SQL run first on the table 'quarantined' (UPDATE …, or a SELECT replacing it)",
    )
    .option('--fix-file <file>', 'the fix, read from a file')
    .option('--onto-latest', "add the rows to the clean output's latest version when it moved on")
    .option('--dry-run', 'say what would happen; write nothing')
    .option('--json', 'print the ReplayReport as JSON')
    .action(
      async (
        dataset: string,
        opts: {
          from?: string;
          version?: number;
          check?: string;
          fix?: string;
          fixFile?: string;
          ontoLatest?: boolean;
          dryRun?: boolean;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        if (opts.fix !== undefined && opts.fixFile !== undefined)
          throw new UsageError('give --fix or --fix-file, not both');
        let fix = opts.fix;
        if (opts.fixFile !== undefined) {
          try {
            fix = readFileSync(opts.fixFile, 'utf8');
          } catch (error) {
            throw new UsageError(
              `--fix-file: cannot read ${opts.fixFile}: ${(error as Error).message}`,
            );
          }
        }
        const checks = opts.check
          ?.split(',')
          .map((id) => id.trim())
          .filter((id) => id !== '');
        await withQualityOperations(cmd, async (ops) => {
          const report = await ops.replay({
            dataset,
            actor: localActor().name,
            ...(opts.from === undefined ? {} : { quarantineDataset: opts.from }),
            ...(opts.version === undefined ? {} : { version: opts.version }),
            ...(checks === undefined ? {} : { checks }),
            ...(fix === undefined ? {} : { fix }),
            ontoLatest: opts.ontoLatest ?? false,
            dryRun: opts.dryRun ?? false,
          });
          if (opts.json) return printJson(report);
          printReplay(report);
        });
      },
    );
}

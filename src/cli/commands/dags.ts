/**
 * `updraft dags ...`: list, show, trigger, pause, unpause, backfill, test, next-runs,
 * import-errors. `--json` prints the `Operations` return type of the command as is
 * (`DagSummary[]`, `DagDetail`, `RunSummary` / `RunDetail`, `BackfillInfo`,
 * `PlannedRunInfo[]`, `ImportErrorInfo[]`; `dags test`: `DagTestResult`).
 */
import type { Command } from 'commander';
import { formatSpecIssue, UpdraftError } from '../../core/errors.ts';
import type { DagSummary, Operations, Reprocess } from '../../ops/operations.ts';
import { settingsOf, withOperations } from '../context.ts';
import { EXIT_FAILED } from '../errors.ts';
import { isoTime, painter, paintState, printJson, printTable, say } from '../output.ts';
import { choiceArg, integerArg, isoDateArg, parseJsonOption } from '../parse.ts';
import { printRunDetail, waitForRun } from '../watch-run.ts';
import { registerCheckCommands } from './dags-checks.ts';

const JSON_HELP = 'print JSON instead of a table';

export function registerDagCommands(program: Command): void {
  const dags = program.command('dags').description('list, inspect, trigger and test DAGs');

  dags
    .command('list')
    .description('list the DAGs in the store')
    .option('--tag <tag>', 'only DAGs with this tag')
    .option('--paused', 'only paused DAGs')
    .option('--no-paused', 'only unpaused DAGs')
    .option('--json', JSON_HELP)
    .action(async (opts: { tag?: string; paused?: boolean; json?: boolean }, cmd: Command) => {
      await withOperations(cmd, async (ops) => {
        const dags = await ops.listDags({ tag: opts.tag, paused: opts.paused });
        if (opts.json) return printJson(dags);
        const paint = painter();
        printTable(
          ['dag', 'schedule', 'paused', 'next run', 'last run', 'owner', 'tags'],
          dags.map((d) => dagRow(d, paint)),
          `no DAGs in the store yet: 'updraft standalone' loads them from ${settingsOf(cmd).pipelinesDir}`,
        );
        await noteImportErrors(ops);
      });
    });

  dags
    .command('show <dag>')
    .description("show a DAG's settings and tasks")
    .option('--json', JSON_HELP)
    .action(async (dagId: string, opts: { json?: boolean }, cmd: Command) => {
      await withOperations(cmd, async (ops) => {
        const dag = await ops.getDag(dagId);
        if (opts.json) return printJson(dag);
        const paint = painter();
        const { spec } = dag;
        const facts: [string, string][] = [
          ['dag', paint('bold', dag.dagId)],
          ['description', dag.description ?? '-'],
          ['file', dag.fileloc],
          ['owner', dag.owner],
          ['tags', dag.tags.join(', ') || '-'],
          ['schedule', `${dag.schedule ?? 'manual only'} (${dag.timezone})`],
          ['start / end', `${isoTime(spec.startDate)} / ${isoTime(spec.endDate)}`],
          ['catchup', String(spec.catchup)],
          ['paused', dag.isPaused ? paint('yellow', 'yes') : 'no'],
          ['max active', `${spec.maxActiveRuns} runs, ${spec.maxActiveTasks} tasks`],
          ['next run', isoTime(dag.nextRunAfter)],
          ['version', `${dag.versionHash} (parsed ${isoTime(dag.lastParsedAt)})`],
        ];
        const width = Math.max(...facts.map(([k]) => k.length));
        for (const [key, value] of facts) say(`${paint('dim', key.padEnd(width))}  ${value}`);
        say();
        printTable(
          ['task', 'operator', 'upstream', 'trigger rule', 'retries', 'pool'],
          spec.tasks.map((t) => [
            t.taskId,
            t.operator,
            t.upstream.join(', ') || '-',
            t.triggerRule,
            String(t.retries),
            t.pool,
          ]),
          'no tasks',
        );
      });
    });

  dags
    .command('trigger <dag>')
    .description('create a manual run')
    .option('--params <json>', 'run parameters, a JSON object validated against the DAG params')
    .option('--run-id <id>', 'run id (default: manual__<time>)')
    .option('--logical-date <iso>', 'logical date (default: now)', isoDateArg)
    .option('--wait', 'wait for the run to finish; exit 1 if it fails')
    .option('--json', 'print the RunSummary (with --wait: the final RunDetail) as JSON')
    .action(
      async (
        dagId: string,
        opts: {
          params?: string;
          runId?: string;
          logicalDate?: string;
          wait?: boolean;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        const params =
          opts.params === undefined ? undefined : parseJsonOption('--params', opts.params);
        if (opts.wait) await requireScheduler(cmd, '--wait');
        await withOperations(cmd, async (ops, handle) => {
          const run = await ops.triggerRun(dagId, {
            params,
            runId: opts.runId,
            logicalDate: opts.logicalDate,
          });
          if (!opts.wait) {
            if (opts.json) return printJson(run);
            say(`triggered ${dagId} run ${run.runId} (logical date ${isoTime(run.logicalDate)})`);
            if (handle.via === 'embedded') say(painter()('dim', queuedNote()));
            return;
          }
          if (!opts.json) say(`triggered ${dagId} run ${run.runId}; waiting for it to finish`);
          const detail = await waitForRun(ops, dagId, run.runId, { quiet: opts.json === true });
          if (opts.json) printJson(detail);
          else printRunDetail(detail);
          if (detail.state === 'failed') process.exitCode = EXIT_FAILED;
        });
      },
    );

  for (const paused of [true, false]) {
    dags
      .command(`${paused ? 'pause' : 'unpause'} <dag>`)
      .description(paused ? 'stop scheduling new runs' : 'resume scheduling')
      .action(async (dagId: string, _opts: unknown, cmd: Command) => {
        await withOperations(cmd, async (ops) => {
          await ops.setPaused(dagId, paused);
          say(`${dagId} ${paused ? 'paused' : 'unpaused'}`);
        });
      });
  }

  dags
    .command('backfill <dag>')
    .description('create runs for every interval in a date range')
    .requiredOption('--from <iso>', 'first logical date (inclusive)', isoDateArg)
    .requiredOption('--to <iso>', 'last logical date (inclusive)', isoDateArg)
    .option(
      '--reprocess <which>',
      'existing runs to run again: none, failed, all',
      choiceArg<Reprocess>(['none', 'failed', 'all']),
      'none',
    )
    .option('--max-active-runs <n>', 'runs of the backfill at once', integerArg())
    .option('--json', 'print the BackfillInfo as JSON')
    .action(
      async (
        dagId: string,
        opts: {
          from: string;
          to: string;
          reprocess: Reprocess;
          maxActiveRuns?: number;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        await withOperations(cmd, async (ops, handle) => {
          const backfill = await ops.createBackfill(dagId, {
            from: opts.from,
            to: opts.to,
            reprocess: opts.reprocess,
            maxActiveRuns: opts.maxActiveRuns,
          });
          if (opts.json) return printJson(backfill);
          say(
            `backfill ${backfill.id} of ${dagId}: ${backfill.runIds.length} runs ` +
              `from ${isoTime(backfill.from)} to ${isoTime(backfill.to)}, ` +
              `at most ${backfill.maxActiveRuns} at once`,
          );
          if (handle.via === 'embedded') say(painter()('dim', queuedNote()));
        });
      },
    );

  dags
    .command('test <dag>')
    .description('run the whole DAG once in this process (no store, no scheduler)')
    .option('--date <iso>', 'logical date (default: now)', isoDateArg)
    .option('--params <json>', 'run parameters, a JSON object validated against the DAG params')
    .option('--json', 'print the DagTestResult as JSON instead of logs and a summary')
    .action(
      async (
        dagId: string,
        opts: { date?: string; params?: string; json?: boolean },
        cmd: Command,
      ) => {
        const params =
          opts.params === undefined ? undefined : parseJsonOption('--params', opts.params);
        const { runDagTest } = await import('../run-dag-test.ts');
        const ok = await runDagTest(settingsOf(cmd), dagId, { ...opts, params });
        if (!ok) process.exitCode = EXIT_FAILED;
      },
    );

  dags
    .command('next-runs <dag>')
    .description('the next runs the scheduler will create')
    .option('--after <iso>', 'list runs after this time (default: now)', isoDateArg)
    .option('--count <n>', 'how many (default 5)', integerArg(), 5)
    .option('--json', 'print PlannedRunInfo[] as JSON')
    .action(
      async (
        dagId: string,
        opts: { after?: string; count: number; json?: boolean },
        cmd: Command,
      ) => {
        await withOperations(cmd, async (ops) => {
          const runs = await ops.nextRuns(dagId, { after: opts.after, count: opts.count });
          if (opts.json) return printJson(runs);
          printTable(
            ['data interval start', 'data interval end', 'run after'],
            runs.map((r) => [
              isoTime(r.dataIntervalStart),
              isoTime(r.dataIntervalEnd),
              isoTime(r.runAfter),
            ]),
            `${dagId} has no scheduled runs ahead (manual only, or past its end date)`,
          );
        });
      },
    );

  dags
    .command('import-errors')
    .description('pipeline files that failed to load, and why (exit 1 if any)')
    .option('--json', 'print ImportErrorInfo[] as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withOperations(cmd, async (ops) => {
        const errors = await ops.listImportErrors();
        // Exit 1 when any file failed to load, so CI can gate on it.
        if (errors.length > 0) process.exitCode = EXIT_FAILED;
        if (opts.json) return printJson(errors);
        const paint = painter();
        if (errors.length === 0) return say(paint('dim', 'no import errors'));
        for (const error of errors) {
          say(`${paint('bold', error.fileloc)} ${paint('dim', `(${isoTime(error.at)})`)}`);
          for (const issue of error.issues) say(`  ${paint('red', '✗')} ${formatSpecIssue(issue)}`);
        }
      });
    });

  registerCheckCommands(dags);
}

function dagRow(dag: DagSummary, paint: ReturnType<typeof painter>): string[] {
  const last = dag.recentRuns[0];
  return [
    dag.isActive ? dag.dagId : `${dag.dagId} ${paint('dim', '(file gone)')}`,
    dag.schedule ?? paint('dim', 'manual'),
    dag.isPaused ? paint('yellow', 'yes') : 'no',
    isoTime(dag.nextRunAfter),
    last ? `${paintState(paint, last.state)} ${paint('dim', last.runId)}` : '-',
    dag.owner,
    dag.tags.join(',') || '-',
  ];
}

async function noteImportErrors(ops: Operations): Promise<void> {
  const errors = await ops.listImportErrors();
  if (errors.length === 0) return;
  const paint = painter(process.stderr);
  process.stderr.write(
    `${paint('yellow', 'warning:')} ${errors.length} pipeline file(s) failed to load: ` +
      `run 'updraft dags import-errors'\n`,
  );
}

function queuedNote(): string {
  return 'no scheduler is running on this store: the run starts when updraft standalone (or scheduler) does';
}

/**
 * Refuses at once when no scheduler can be running: the embedded store is not held by
 * a server (with PostgreSQL, a scheduler may run anywhere).
 */
async function requireScheduler(cmd: Command, option: string): Promise<void> {
  const { home, databaseUrl } = settingsOf(cmd);
  if (databaseUrl) return;
  const { readLock } = await import('../../control/lock.ts');
  const lock = readLock(home);
  if (lock?.alive && lock.holder.purpose === 'server') return;
  throw new UpdraftError(
    'no_scheduler',
    `${option} needs a running scheduler, and none holds ${home}: start 'updraft standalone' first`,
  );
}

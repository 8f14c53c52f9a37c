/**
 * `updraft runs ...`: list, show, mark. `--json` prints `RunSummary[]` / `RunDetail`.
 */
import { Argument, type Command } from 'commander';
import { RUN_STATES, type RunState } from '../../core/states.ts';
import { withOperations } from '../context.ts';
import { between, isoTime, painter, paintState, printJson, printTable, say } from '../output.ts';
import { choiceArg, integerArg } from '../parse.ts';
import { printRunDetail } from '../watch-run.ts';

export function registerRunCommands(program: Command): void {
  const runs = program.command('runs').description('inspect and mark DAG runs');

  runs
    .command('list <dag>')
    .description("a DAG's runs, newest first")
    .option(
      '--state <state>',
      `only runs in this state (${RUN_STATES.join(', ')})`,
      choiceArg(RUN_STATES),
    )
    .option('--limit <n>', 'at most this many (default 25)', integerArg(), 25)
    .option('--json', 'print RunSummary[] as JSON')
    .action(
      async (
        dagId: string,
        opts: { state?: RunState; limit: number; json?: boolean },
        cmd: Command,
      ) => {
        await withOperations(cmd, async (ops) => {
          const list = await ops.listRuns(dagId, { state: opts.state, limit: opts.limit });
          if (opts.json) return printJson(list);
          const paint = painter();
          printTable(
            ['run', 'type', 'state', 'logical date', 'started', 'duration'],
            list.map((r) => [
              r.runId,
              r.runType,
              paintState(paint, r.state),
              isoTime(r.logicalDate),
              isoTime(r.startedAt),
              between(r.startedAt, r.endedAt),
            ]),
            `no runs of ${dagId}${opts.state ? ` in state ${opts.state}` : ''}`,
          );
        });
      },
    );

  runs
    .command('show <dag> <run>')
    .description('a run and its task instances')
    .option('--json', 'print the RunDetail as JSON')
    .action(async (dagId: string, runId: string, opts: { json?: boolean }, cmd: Command) => {
      await withOperations(cmd, async (ops) => {
        const run = await ops.getRun(dagId, runId);
        if (opts.json) printJson(run);
        else printRunDetail(run);
      });
    });

  runs
    .command('mark <dag> <run>')
    .addArgument(new Argument('<state>', 'the state to end in').choices(['success', 'failed']))
    .description('end a run as success or failed (its unfinished tasks too)')
    .option('--json', 'print the RunDetail as JSON')
    .action(
      async (
        dagId: string,
        runId: string,
        state: 'success' | 'failed',
        opts: { json?: boolean },
        cmd: Command,
      ) => {
        await withOperations(cmd, async (ops) => {
          const run = await ops.markRun(dagId, runId, state);
          if (opts.json) return printJson(run);
          say(`${dagId} run ${runId} marked ${paintState(painter(), run.state)}`);
        });
      },
    );
}

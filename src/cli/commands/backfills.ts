/**
 * `updraft backfills ...`: list, cancel (create one with `updraft dags backfill`).
 * `--json` prints `BackfillInfo[]` / `BackfillInfo`.
 */
import type { Command } from 'commander';
import type { BackfillInfo } from '../../ops/operations.ts';
import { withOperations } from '../context.ts';
import { isoTime, printJson, printTable, say } from '../output.ts';
import { integerArg } from '../parse.ts';

export function registerBackfillCommands(program: Command): void {
  const backfills = program
    .command('backfills')
    .description("follow and cancel backfills (create them with 'dags backfill')");

  backfills
    .command('list')
    .description('backfills, newest first')
    .option('--dag <dag>', 'only backfills of this DAG')
    .option('--json', 'print BackfillInfo[] as JSON')
    .action(async (opts: { dag?: string; json?: boolean }, cmd: Command) => {
      await withOperations(cmd, async (ops) => {
        const list = await ops.listBackfills(opts.dag);
        if (opts.json) return printJson(list);
        printTable(
          ['id', 'dag', 'state', 'from', 'to', 'reprocess', 'runs'],
          list.map((b) => backfillRow(b)),
          'no backfills',
        );
      });
    });

  backfills
    .command('cancel')
    .argument('<id>', 'backfill id', integerArg())
    .description('stop creating runs for a backfill (runs already going finish)')
    .option('--json', 'print the BackfillInfo as JSON')
    .action(async (id: number, opts: { json?: boolean }, cmd: Command) => {
      await withOperations(cmd, async (ops) => {
        const backfill = await ops.cancelBackfill(id);
        if (opts.json) return printJson(backfill);
        say(`backfill ${backfill.id} of ${backfill.dagId}: ${backfill.state}`);
      });
    });
}

function backfillRow(b: BackfillInfo): string[] {
  return [
    String(b.id),
    b.dagId,
    b.state,
    isoTime(b.from),
    isoTime(b.to),
    b.reprocess,
    String(b.runIds.length),
  ];
}

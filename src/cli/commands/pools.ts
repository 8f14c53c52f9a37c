/**
 * `updraft pools ...`: list, set. `--json` prints `PoolInfo[]` / `PoolInfo`.
 */
import type { Command } from 'commander';
import { withOperations } from '../context.ts';
import { printJson, printTable, say } from '../output.ts';
import { integerArg } from '../parse.ts';

export function registerPoolCommands(program: Command): void {
  const pools = program.command('pools').description('slots shared by tasks across DAGs');

  pools
    .command('list')
    .description('pools with their slots and how many are taken')
    .option('--json', 'print PoolInfo[] as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withOperations(cmd, async (ops) => {
        const list = await ops.listPools();
        if (opts.json) return printJson(list);
        printTable(
          ['pool', 'slots', 'occupied', 'description'],
          list.map((p) => [p.name, String(p.slots), String(p.occupied), p.description ?? '-']),
          'no pools',
        );
      });
    });

  pools
    .command('set <name>')
    .argument('<slots>', 'number of slots', integerArg(0))
    .description('create a pool or change its slots')
    .option('--description <text>', 'what the pool is for')
    .option('--json', 'print the PoolInfo as JSON')
    .action(
      async (
        name: string,
        slots: number,
        opts: { description?: string; json?: boolean },
        cmd: Command,
      ) => {
        await withOperations(cmd, async (ops) => {
          const pool = await ops.setPool(name, slots, opts.description);
          if (opts.json) return printJson(pool);
          say(`pool ${pool.name}: ${pool.slots} slots (${pool.occupied} occupied)`);
        });
      },
    );
}

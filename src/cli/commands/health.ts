/**
 * `updraft health`: the store, the schedulers' heartbeats and the executor's slots, as
 * the running process sees them (through its control socket) or from the store. Exit 1
 * when unhealthy: the store does not answer or no scheduler has beaten recently.
 */
import type { Command } from 'commander';
import { withOperations } from '../context.ts';
import { EXIT_FAILED } from '../errors.ts';
import { humanDuration, painter, printJson, say } from '../output.ts';

export function registerHealthCommands(program: Command): void {
  program
    .command('health')
    .description('store, scheduler heartbeat and executor slots; exit 1 when unhealthy')
    .option('--json', 'print HealthReport as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withOperations(cmd, async (ops) => {
        const report = await ops.health();
        if (opts.json) printJson(report);
        else {
          const paint = painter();
          say(
            `status     ${report.status === 'ok' ? paint('green', 'ok') : paint('red', 'unhealthy')}`,
          );
          say(
            `store      ${report.store.kind} ${report.store.ok ? 'answers' : `fails: ${report.store.error}`}`,
          );
          for (const s of report.schedulers) {
            const age =
              s.heartbeatAgeMs === null ? 'never' : `${humanDuration(s.heartbeatAgeMs)} ago`;
            const where = s.hostname ? `${s.hostname} pid ${s.pid}` : `pid ${s.pid}`;
            say(`scheduler  ${where}: last heartbeat ${age}`);
          }
          if (report.executor) {
            const e = report.executor;
            say(`executor   ${e.name}: ${e.slots} slots, ${e.inFlight} in flight`);
          }
          for (const p of report.problems) say(paint('red', `problem    ${p}`));
        }
        if (report.status !== 'ok') process.exitCode = EXIT_FAILED;
      });
    });
}

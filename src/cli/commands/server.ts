/**
 * `updraft standalone`, `updraft scheduler` and `updraft webserver`: the long-running
 * process (see `serve.ts`).
 */
import type { Command } from 'commander';
import { commandLine, settingsOf } from '../context.ts';
import { choiceArg, integerArg } from '../parse.ts';

interface ServeFlags {
  port?: number;
  host: string;
  workers?: number;
  executor?: 'local' | 'queue';
}

export function registerServerCommands(program: Command): void {
  for (const mode of ['standalone', 'scheduler'] as const) {
    program
      .command(mode)
      .description(
        mode === 'standalone'
          ? 'scheduler, executor and web server in one process, on the embedded store by default'
          : 'scheduler and executor (no web server unless --port is given)',
      )
      .option(
        '--port <n>',
        mode === 'standalone' ? 'HTTP port (default 8080)' : 'serve HTTP (health) on this port',
        integerArg(0),
      )
      .option('--host <address>', 'interface to serve HTTP on', '127.0.0.1')
      .option('--workers <n>', 'worker processes (default: number of cores)', integerArg())
      .option(
        '--executor <kind>',
        'local (worker processes here) or queue (updraft worker processes through Redis); default UPDRAFT_EXECUTOR, else local',
        choiceArg(['local', 'queue'] as const),
      )
      .action(async (opts: ServeFlags, cmd: Command) => {
        const { serve } = await import('../serve.ts');
        await serve(settingsOf(cmd), {
          mode,
          port: opts.port ?? (mode === 'standalone' ? 8080 : null),
          host: opts.host,
          workers: opts.workers,
          executor: opts.executor,
          command: commandLine(cmd),
        });
      });
  }
  program
    .command('webserver')
    .description(
      'the HTTP server alone (REST API, UI, health): no scheduler, no executor; for deployments with separate schedulers and workers',
    )
    .option('--port <n>', 'HTTP port (default 8080)', integerArg(0))
    .option('--host <address>', 'interface to serve HTTP on', '127.0.0.1')
    .action(async (opts: Pick<ServeFlags, 'port' | 'host'>, cmd: Command) => {
      const { serve } = await import('../serve.ts');
      await serve(settingsOf(cmd), {
        mode: 'webserver',
        port: opts.port ?? 8080,
        host: opts.host,
        command: commandLine(cmd),
      });
    });
}

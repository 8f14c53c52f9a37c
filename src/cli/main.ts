/**
 * The `updraft` command line. Each command group lives in `commands/<group>.ts`; this
 * file assembles them, runs the command and turns the outcome into an exit code
 * (see `errors.ts`). Heavy modules (the store, the loader, the HTTP server) are
 * imported by the actions that need them, so `updraft --help` and socket-backed
 * commands start fast.
 */
import { Command } from 'commander';
import { registerBackfillCommands } from './commands/backfills.ts';
import { registerConnectionCommands } from './commands/connections.ts';
import { registerDagCommands } from './commands/dags.ts';
import { registerDatasetCommands } from './commands/datasets.ts';
import { registerDbCommands } from './commands/db.ts';
import { registerExampleCommands } from './commands/examples.ts';
import { registerHealthCommands } from './commands/health.ts';
import { registerLogCommands } from './commands/logs.ts';
import { registerPoolCommands } from './commands/pools.ts';
import { registerQualityCommands } from './commands/quality.ts';
import { registerReportCommands } from './commands/report.ts';
import { registerRunCommands } from './commands/runs.ts';
import { registerServerCommands } from './commands/server.ts';
import { registerTaskCommands } from './commands/tasks.ts';
import { registerUserCommands } from './commands/users.ts';
import { registerWorkerCommands } from './commands/worker.ts';
import { addGlobalOptions } from './context.ts';
import { EXIT_OK, reportError } from './errors.ts';
import { updraftVersion } from './version.ts';

const MORE_HELP = `
Environment:
  UPDRAFT_HOME, UPDRAFT_PIPELINES  defaults of --home and --pipelines
  UPDRAFT_DATABASE_URL             PostgreSQL server instead of the embedded store
  UPDRAFT_LOG_LEVEL                level of the standalone/scheduler log (default info)
  UPDRAFT_DEBUG=1                  print stack traces with errors
  NO_COLOR                         no colours even on a terminal

Exit codes: 0 done, 1 a run failed or the input was refused, 2 usage error.
--json prints the Operations types of src/ops/operations.ts as they are.`;

/** Builds the `updraft` program with every command registered. */
function buildProgram(): Command {
  const program = new Command('updraft')
    .description('TypeScript-native data pipeline orchestrator')
    .version(updraftVersion(), '-V, --version')
    .showSuggestionAfterError()
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .addHelpText('after', MORE_HELP)
    .exitOverride();
  addGlobalOptions(program);
  registerServerCommands(program);
  registerWorkerCommands(program);
  registerDbCommands(program);
  registerDagCommands(program);
  registerRunCommands(program);
  registerTaskCommands(program);
  registerBackfillCommands(program);
  registerPoolCommands(program);
  registerReportCommands(program);
  registerHealthCommands(program);
  registerLogCommands(program);
  registerDatasetCommands(program);
  registerQualityCommands(program);
  registerConnectionCommands(program);
  registerUserCommands(program);
  registerExampleCommands(program);
  return program;
}

/** Runs the CLI on `argv` (as `process.argv`) and resolves to the exit code. */
async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (error) {
    return reportError(error);
  }
}

process.exit(await runCli(process.argv));

/**
 * What every command shares: the global options (`--home`, `--pipelines`, and
 * `UPDRAFT_DATABASE_URL` from the environment) and the way to reach `Operations`.
 */
import path from 'node:path';
import { type Command, Option } from 'commander';
import type { OperationsHandle } from '../control/open-operations.ts';
import type { Operations } from '../ops/operations.ts';

/** Resolved global settings of one CLI invocation. */
export interface CliSettings {
  /** Absolute home folder (store, logs, lock, control socket). */
  home: string;
  /** Absolute pipelines folder. */
  pipelinesDir: string;
  /** PostgreSQL URL from `UPDRAFT_DATABASE_URL`; undefined means the embedded store. */
  databaseUrl: string | undefined;
}

/** Adds `--home` and `--pipelines` (read anywhere on the command line). */
export function addGlobalOptions(program: Command): Command {
  return program
    .addOption(
      new Option('--home <dir>', 'home folder: embedded store, logs, lock')
        .env('UPDRAFT_HOME')
        .default('.updraft'),
    )
    .addOption(
      new Option('--pipelines <dir>', 'folder of pipeline files')
        .env('UPDRAFT_PIPELINES')
        .default('pipelines'),
    );
}

/** The global settings as seen from a (sub)command. */
export function settingsOf(command: Command): CliSettings {
  const opts = command.optsWithGlobals<{ home: string; pipelines: string }>();
  return {
    home: path.resolve(opts.home),
    pipelinesDir: path.resolve(opts.pipelines),
    databaseUrl: process.env.UPDRAFT_DATABASE_URL || undefined,
  };
}

/** The command line as typed, for the lock file (`updraft dags list`). */
export function commandLine(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Runs `fn` with `Operations` reached the cheapest way (control socket of a running
 * `updraft standalone`, else a runtime of its own), and closes them after.
 */
export async function withOperations<T>(
  command: Command,
  fn: (ops: Operations, handle: OperationsHandle) => Promise<T>,
): Promise<T> {
  const settings = settingsOf(command);
  const { openOperations } = await import('../control/open-operations.ts');
  const handle = await openOperations({ ...settings, command: commandLine(command) });
  try {
    return await fn(handle.ops, handle);
  } finally {
    await handle.close();
  }
}

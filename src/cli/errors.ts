/**
 * How the CLI ends: exit codes and the one line it prints for an error.
 *
 * - 0: done.
 * - 1: a run failed (`dags trigger --wait`, `dags test`), or the input was refused
 *   (`ParamsError`, `NotFoundError`, `ConflictError`, malformed `--params`, a busy store).
 * - 2: usage errors: unknown command or option, missing or malformed argument.
 *
 * Errors print one line to stderr (plus a hint line for errors that are not
 * `UpdraftError`s, which may be bugs); the stack only with `UPDRAFT_DEBUG=1`.
 */
import { CommanderError } from 'commander';
import { UpdraftError } from '../core/errors.ts';
import { painter } from './output.ts';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** A command was used wrongly in a way commander cannot see (exit 2). */
export class UsageError extends UpdraftError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** Reports an error on stderr and returns the exit code it stands for. */
export function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander printed its message already; help and version are not errors.
    return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  const paint = painter(process.stderr);
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${paint('red', 'error:')} ${message}\n`);
  if (process.env.UPDRAFT_DEBUG === '1' && error instanceof Error && error.stack) {
    process.stderr.write(`${error.stack}\n`);
  } else if (!(error instanceof UpdraftError)) {
    // Not one of ours: it may be a bug, and the stack says where.
    process.stderr.write(paint('dim', '(UPDRAFT_DEBUG=1 shows the stack trace)\n'));
  }
  return error instanceof UsageError ? EXIT_USAGE : EXIT_FAILED;
}

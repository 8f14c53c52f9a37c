/**
 * The `shell` operator: runs a command line with `<shell> -c`, as the leader of its own
 * process group, streaming stdout and stderr into the task log line by line.
 *
 * - Exit code 0 is success; the code in `skipOnExitCode` (default 99, as Airflow's
 *   `skip_on_exit_code`) ends the task as skipped; any other code fails it, naming the
 *   code and the last stderr line.
 * - On cancel or timeout (the attempt's signal aborts) the whole group gets SIGTERM, and
 *   SIGKILL `SHELL_KILL_GRACE_MS` later if it is still there. Processes the command leaves
 *   running in the background are ended the same way when it exits.
 * - The command sees the worker's environment, the `UPDRAFT_*` context variables
 *   (`UPDRAFT_DAG_ID`, `UPDRAFT_TASK_ID`, `UPDRAFT_RUN_ID`, `UPDRAFT_TRY_NUMBER`,
 *   `UPDRAFT_LOGICAL_DATE`, `UPDRAFT_DS`), `UPDRAFT_CONN_<NAME>` for each connection the
 *   task declares (`connections`, stored ones included) and `env` from its config, in
 *   that order.
 */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import type { Json } from '../core/dag-spec.ts';
import { SkipTask, TaskFailure } from '../core/errors.ts';
import { connectionEnvVar } from './connections.ts';
import { LineSplitter } from './line-splitter.ts';
import type { Operator, OperatorContext } from './operator.ts';
import { killProcessGroup, trackProcessGroup } from './process-groups.ts';

/** Time between SIGTERM and SIGKILL when a command's process group is stopped. */
export const SHELL_KILL_GRACE_MS = 2000;

/** Most stdout kept for `returnOutput: 'json'` (16 MiB); results are far smaller anyway. */
const MAX_JSON_OUTPUT_CHARS = 16 * 1024 * 1024;

export const shellConfigSchema = Type.Object(
  {
    command: Type.String({
      minLength: 1,
      description:
        'Command line, run as `<shell> -c <command>`. Templates such as {{ ds }} and {{ params.x }} are rendered first.',
    }),
    env: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description:
          "Extra environment variables, set on top of the worker's environment and the UPDRAFT_* context variables.",
      }),
    ),
    cwd: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Working directory; a relative path is resolved against the pipeline file's directory. Default: the pipeline file's directory.",
      }),
    ),
    shell: Type.String({
      minLength: 1,
      default: '/bin/sh',
      description: 'Shell that runs the command (with -c). Default: /bin/sh.',
    }),
    returnOutput: Type.Union(
      [Type.Literal('none'), Type.Literal('last_line'), Type.Literal('json')],
      {
        default: 'none',
        description:
          "What becomes the task result: 'none' (default), 'last_line' (the last non-empty stdout line, as a string) or 'json' (all of stdout, parsed as JSON).",
      },
    ),
    skipOnExitCode: Type.Union([Type.Integer({ minimum: 1, maximum: 255 }), Type.Null()], {
      default: 99,
      description:
        'Exit code that ends the task as skipped instead of failed. Default: 99 (as Airflow). null: every non-zero code fails.',
    }),
  },
  {
    additionalProperties: false,
    description: 'Runs a shell command in its own process group; its output goes to the task log.',
  },
);

export type ShellConfig = Static<typeof shellConfigSchema>;

export const shellOperator: Operator<ShellConfig> = {
  name: 'shell',
  description: 'Runs a shell command; exit code 0 succeeds, 99 skips, anything else fails.',
  configSchema: shellConfigSchema,
  async run(config, ctx) {
    const cwd = resolve(dirname(ctx.attempt.fileloc), config.cwd ?? '.');
    const isDirectory = await stat(cwd).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDirectory) {
      throw new TaskFailure(`working directory '${cwd}' does not exist or is not a directory`);
    }
    ctx.signal.throwIfAborted();
    return await runCommand(config, ctx, cwd);
  },
};

function contextEnv(ctx: OperatorContext): Record<string, string> {
  const env: Record<string, string> = {
    UPDRAFT_DAG_ID: ctx.dagId,
    UPDRAFT_TASK_ID: ctx.taskId,
    UPDRAFT_RUN_ID: ctx.runId,
    UPDRAFT_TRY_NUMBER: String(ctx.tryNumber),
    UPDRAFT_LOGICAL_DATE: ctx.logicalDate.toISOString(),
    UPDRAFT_DS: ctx.ds,
  };
  // Declared connections, stored and file ones included (their passwords masked in the log).
  for (const name of ctx.attempt.task.connections ?? []) {
    env[connectionEnvVar(name)] = ctx.connection(name).url;
  }
  return env;
}

function runCommand(
  config: ShellConfig,
  ctx: OperatorContext,
  cwd: string,
): Promise<Json | undefined> {
  return new Promise((settle, fail) => {
    const child = spawn(config.shell, ['-c', config.command], {
      cwd,
      env: { ...process.env, ...contextEnv(ctx), ...config.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    const forget = pid === undefined ? () => {} : trackProcessGroup(pid);
    let lastLine: string | undefined;
    let lastStderr: string | undefined;
    let stdoutText = '';
    let stdoutOverflow = false;
    let killTimer: NodeJS.Timeout | undefined;

    const terminate = () => {
      if (pid === undefined || killTimer !== undefined) return;
      if (!killProcessGroup(pid, 'SIGTERM')) return;
      killTimer = setTimeout(() => killProcessGroup(pid, 'SIGKILL'), SHELL_KILL_GRACE_MS);
      killTimer.unref();
    };
    ctx.signal.addEventListener('abort', terminate, { once: true });

    const stdout = new LineSplitter((line) => {
      ctx.log.info(line, { stream: 'stdout' });
      if (line.trim() !== '') lastLine = line;
    });
    const stderr = new LineSplitter((line) => {
      ctx.log.info(line, { stream: 'stderr' });
      if (line.trim() !== '') lastStderr = line;
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
      if (config.returnOutput !== 'json' || stdoutOverflow) return;
      stdoutText += chunk.toString('utf8');
      if (stdoutText.length > MAX_JSON_OUTPUT_CHARS) {
        stdoutOverflow = true;
        stdoutText = '';
      }
    });
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // The command is done; end what it left running in the background.
    child.on('exit', terminate);

    child.on('error', (error: NodeJS.ErrnoException) => {
      if (pid !== undefined) return; // a failed kill; 'close' still follows
      ctx.signal.removeEventListener('abort', terminate);
      fail(
        new TaskFailure(
          error.code === 'ENOENT'
            ? `shell '${config.shell}' was not found: set 'shell' to an installed shell`
            : `cannot start shell '${config.shell}': ${error.message}`,
          { cause: error },
        ),
      );
    });

    child.on('close', (code, signal) => {
      clearTimeout(killTimer);
      ctx.signal.removeEventListener('abort', terminate);
      forget();
      stdout.end();
      stderr.end();
      if (ctx.signal.aborted) {
        fail(ctx.signal.reason);
      } else if (code === 0) {
        try {
          settle(commandResult(config, lastLine, stdoutText, stdoutOverflow));
        } catch (error) {
          fail(error);
        }
      } else if (code !== null && code === config.skipOnExitCode) {
        fail(new SkipTask(`command exited with code ${code} (skipOnExitCode)`));
      } else if (code !== null) {
        fail(
          new TaskFailure(
            `command exited with code ${code}` +
              (lastStderr ? `; last stderr line: ${lastStderr}` : ''),
          ),
        );
      } else {
        fail(new TaskFailure(`command was killed by signal ${signal ?? 'unknown'}`));
      }
    });
  });
}

function commandResult(
  config: ShellConfig,
  lastLine: string | undefined,
  stdoutText: string,
  stdoutOverflow: boolean,
): Json | undefined {
  switch (config.returnOutput) {
    case 'none':
      return undefined;
    case 'last_line':
      return lastLine;
    case 'json': {
      if (stdoutOverflow) {
        throw new TaskFailure(
          `returnOutput is 'json' but stdout is over ${MAX_JSON_OUTPUT_CHARS} characters: write large data to a file`,
        );
      }
      try {
        return JSON.parse(stdoutText) as Json;
      } catch (error) {
        throw new TaskFailure(
          `returnOutput is 'json' but stdout is not valid JSON (${(error as Error).message})`,
          { cause: error },
        );
      }
    }
  }
}

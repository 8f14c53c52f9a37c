/**
 * `updraft tasks ...`: clear, logs, state, mark. `--json`: `{ cleared }`, the raw JSON
 * log lines, `TaskInstanceDetail`.
 */
import fs from 'node:fs';
import readline from 'node:readline/promises';
import { StringDecoder } from 'node:string_decoder';
import { Argument, type Command } from 'commander';
import { isFinishedTaskState } from '../../core/states.ts';
import type { Operations } from '../../ops/operations.ts';
import { withOperations } from '../context.ts';
import { UsageError } from '../errors.ts';
import { formatLogLine } from '../log-format.ts';
import { painter, paintState, printJson, say } from '../output.ts';
import { integerArg } from '../parse.ts';

/** How often `tasks logs --follow` looks for new lines. */
const FOLLOW_POLL_MS = 250;

export function registerTaskCommands(program: Command): void {
  const tasks = program.command('tasks').description('task instances: clear, logs, state, mark');

  tasks
    .command('clear <dag> <run> <tasks...>')
    .description('clear task instances so the scheduler runs them again')
    .option('--downstream', 'also clear every task downstream of them')
    .option('--only-failed', 'clear only the failed and upstream_failed ones')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print { cleared: string[] } as JSON')
    .action(
      async (
        dagId: string,
        runId: string,
        taskIds: string[],
        opts: { downstream?: boolean; onlyFailed?: boolean; yes?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        if (!opts.yes) {
          const what = `${taskIds.join(', ')}${opts.downstream ? ' and their downstream' : ''}`;
          await confirm(`clear ${what} in ${dagId} run ${runId}?`);
        }
        await withOperations(cmd, async (ops) => {
          const result = await ops.clearTasks(dagId, runId, taskIds, {
            downstream: opts.downstream,
            onlyFailed: opts.onlyFailed,
          });
          if (opts.json) return printJson(result);
          say(
            result.cleared.length === 0
              ? 'nothing to clear'
              : `cleared ${result.cleared.length}: ${result.cleared.join(', ')}`,
          );
        });
      },
    );

  tasks
    .command('logs <dag> <run> <task>')
    .description("print an attempt's log (the latest attempt by default)")
    .option('--attempt <n>', 'try number', integerArg())
    .option('--map-index <n>', 'instance of a mapped task (default: the first)', integerArg())
    .option('-f, --follow', 'keep printing new lines until the attempt ends')
    .option('--json', 'print the raw JSON lines')
    .action(
      async (
        dagId: string,
        runId: string,
        taskId: string,
        opts: { attempt?: number; mapIndex?: number; follow?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        await withOperations(cmd, async (ops) => {
          const file = await ops.taskLogPath(dagId, runId, taskId, opts.attempt, opts.mapIndex);
          const paint = painter();
          const print = (line: string) => say(opts.json ? line : formatLogLine(line, paint));
          const reader = new LogReader(file, print);
          reader.read();
          if (opts.follow) {
            const attempt =
              opts.attempt ??
              (await ops.getTaskInstance(dagId, runId, taskId, opts.mapIndex)).tryNumber;
            while (!(await attemptEnded(ops, dagId, runId, taskId, attempt, opts.mapIndex))) {
              await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
              reader.read();
            }
            reader.read();
          }
          reader.flush();
          if (!reader.found && !opts.json) {
            process.stderr.write(`${paint('dim', `no log yet at ${file}`)}\n`);
          }
        });
      },
    );

  tasks
    .command('state <dag> <run> <task>')
    .description("print a task instance's state")
    .option('--map-index <n>', 'instance of a mapped task (default: the first)', integerArg())
    .option('--json', 'print the TaskInstanceDetail as JSON')
    .action(
      async (
        dagId: string,
        runId: string,
        taskId: string,
        opts: { mapIndex?: number; json?: boolean },
        cmd: Command,
      ) => {
        await withOperations(cmd, async (ops) => {
          const detail = await ops.getTaskInstance(dagId, runId, taskId, opts.mapIndex);
          if (opts.json) printJson(detail);
          else say(paintState(painter(), detail.state));
        });
      },
    );

  tasks
    .command('mark <dag> <run> <task>')
    .addArgument(new Argument('<state>', 'the state to set').choices(['success', 'failed']))
    .description('set a task instance to success or failed')
    .option('--json', 'print the TaskInstanceDetail as JSON')
    .action(
      async (
        dagId: string,
        runId: string,
        taskId: string,
        state: 'success' | 'failed',
        opts: { json?: boolean },
        cmd: Command,
      ) => {
        await withOperations(cmd, async (ops) => {
          const detail = await ops.markTask(dagId, runId, taskId, state);
          if (opts.json) return printJson(detail);
          say(`${dagId} ${runId} ${taskId} marked ${paintState(painter(), detail.state)}`);
        });
      },
    );
}

/** Asks on the terminal; refuses (usage error) when stdin is not one. */
async function confirm(question: string): Promise<void> {
  if (!process.stdin.isTTY) {
    throw new UsageError(`${question} Add --yes to confirm (stdin is not a terminal to ask on)`);
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError('cancelled, nothing cleared');
  } finally {
    rl.close();
  }
}

async function attemptEnded(
  ops: Operations,
  dagId: string,
  runId: string,
  taskId: string,
  attempt: number,
  mapIndex: number | undefined,
): Promise<boolean> {
  const ti = await ops.getTaskInstance(dagId, runId, taskId, mapIndex);
  return ti.tryNumber > attempt || ti.state === 'up_for_retry' || isFinishedTaskState(ti.state);
}

/** Reads a growing log file from where it stopped, line by line. */
class LogReader {
  private offset = 0;
  private rest = '';
  private readonly decoder = new StringDecoder('utf8');
  found = false;

  constructor(
    private readonly file: string,
    private readonly onLine: (line: string) => void,
  ) {}

  /** Delivers the complete lines added since the last read. */
  read(): void {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    this.found = true;
    try {
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = fs.readSync(fd, buffer, 0, buffer.length, this.offset);
        if (n === 0) break;
        this.offset += n;
        const lines = (this.rest + this.decoder.write(buffer.subarray(0, n))).split('\n');
        this.rest = lines.pop() ?? '';
        for (const line of lines) if (line.trim() !== '') this.onLine(line);
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Delivers a last line that had no newline. */
  flush(): void {
    if (this.rest.trim() !== '') this.onLine(this.rest);
    this.rest = '';
  }
}

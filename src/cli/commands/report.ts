/**
 * `updraft report [--since 7d] [--format md|html] [--output FILE]`: the operations report
 * (see `src/observability/operations-report.ts`); `--json` prints `OperationsReport`.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { parseDuration, parseSince } from '../../core/duration.ts';
import { withOperations } from '../context.ts';
import { printJson, say } from '../output.ts';
import { choiceArg } from '../parse.ts';

/** `7d`, `36h`, or an ISO date: the start of the period, as ISO. */
function sinceArg(text: string): string {
  try {
    return parseSince(text, Date.now()).toISOString();
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** A duration such as `7d`, `12h`, `30 days`. */
export function durationArg(text: string): number {
  try {
    return parseDuration(text);
  } catch {
    throw new InvalidArgumentError(
      `expected a duration such as 7d, 12h or 30 days, or an ISO date; got '${text}'`,
    );
  }
}

export function registerReportCommands(program: Command): void {
  program
    .command('report')
    .description(
      'operations report: runs, success rate, MTTR, deadline misses, durations, rows, quality',
    )
    .option(
      '--since <when>',
      'start of the period: a duration back from now (7d, 24h) or an ISO date',
      sinceArg,
    )
    .option('--format <format>', 'md or html', choiceArg(['md', 'html'] as const), 'md')
    .option('--output <file>', 'write the report to a file instead of stdout')
    .option('--json', 'print OperationsReport as JSON')
    .action(
      async (
        opts: { since?: string; format: 'md' | 'html'; output?: string; json?: boolean },
        cmd: Command,
      ) => {
        const { reportHtml, reportMarkdown } = await import(
          '../../observability/operations-report.ts'
        );
        await withOperations(cmd, async (ops) => {
          const report = await ops.operationsReport({
            since: opts.since ?? new Date(Date.now() - 7 * 86_400_000).toISOString(),
          });
          if (opts.json) return printJson(report);
          const text = opts.format === 'html' ? reportHtml(report) : reportMarkdown(report);
          if (opts.output) {
            writeFileSync(path.resolve(opts.output), text);
            say(`report written to ${path.resolve(opts.output)}`);
          } else process.stdout.write(text);
        });
      },
    );
}

/**
 * `updraft logs cleanup --older-than 30d [--dry-run]`: log retention (see
 * `src/observability/log-retention.ts`). Works on the files only; no store needed.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { settingsOf } from '../context.ts';
import { printJson, say } from '../output.ts';
import { durationArg } from './report.ts';

export function registerLogCommands(program: Command): void {
  program
    .command('logs')
    .description('log retention')
    .command('cleanup')
    .description('remove attempt logs not written to for a while (and folders left empty)')
    .requiredOption('--older-than <duration>', 'age of the logs to remove, e.g. 30d', durationArg)
    .option('--dry-run', 'list what would be removed, remove nothing')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { olderThan: number; dryRun?: boolean; json?: boolean }, cmd: Command) => {
      const { cleanupAttemptLogs } = await import('../../observability/log-retention.ts');
      const logsDir = path.join(settingsOf(cmd).home, 'logs');
      const result = await cleanupAttemptLogs(logsDir, new Date(Date.now() - opts.olderThan), {
        dryRun: opts.dryRun,
      });
      if (opts.json) return printJson(result);
      const verb = opts.dryRun ? 'would remove' : 'removed';
      say(
        `${verb} ${result.files.length} log file(s), ${(result.bytes / 1024).toFixed(1)} KiB, and ${result.folders} empty folder(s) under ${logsDir}`,
      );
    });
}

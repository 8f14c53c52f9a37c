/** Lets each benchmark file run alone (`node --import tsx bench/<name>.ts`). */
import { pathToFileURL } from 'node:url';
import { describeMachine, machineInfo } from './machine.ts';
import { type Figure, figureTable } from './report.ts';

/**
 * When the module at `moduleUrl` is the script node was started with, runs `bench`,
 * prints the machine and the figures, and sets the exit code (1 when it threw).
 */
export function runMain(moduleUrl: string, bench: () => Promise<Figure[]>): void {
  const script = process.argv[1];
  if (script === undefined || pathToFileURL(script).href !== moduleUrl) return;
  process.stdout.write(`machine: ${describeMachine(machineInfo())}\n`);
  bench().then(
    (figures) => {
      process.stdout.write(`\n${figureTable(figures)}\n`);
    },
    (error: unknown) => {
      process.stderr.write(
        `[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    },
  );
}

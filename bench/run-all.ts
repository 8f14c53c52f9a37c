/**
 * Runs every engine benchmark in sequence and prints a summary table (Markdown, as
 * recorded in bench/README.md). Figures are printed, never asserted.
 *
 *     npm run bench                                  # everything (~6 minutes)
 *     UPDRAFT_BENCH_BACKENDS=pglite npm run bench    # skip the PostgreSQL rows
 *     UPDRAFT_BENCH_ONLY=handoff,throughput npm run bench
 */
import { duckdbTransform } from './duckdb-transform.ts';
import { examplePipelines } from './example-pipelines.ts';
import { extract10m } from './extract-10m.ts';
import { handoffLatency } from './handoff-latency.ts';
import { idleFootprint } from './idle-footprint.ts';
import { loader } from './loader.ts';
import { qualityScan } from './quality-scan.ts';
import { queueThroughput } from './queue-throughput.ts';
import { sequentialTasks } from './sequential-tasks.ts';
import { describeMachine, machineInfo } from './support/machine.ts';
import { type Figure, figureTable, progress } from './support/report.ts';
import { throughput } from './throughput.ts';
import { traceOverhead } from './trace-overhead.ts';
import { uiGrid } from './ui-grid.ts';
import { yamlLoad } from './yaml-load.ts';

const BENCHMARKS: { name: string; run: () => Promise<Figure[]> }[] = [
  { name: 'handoff', run: handoffLatency },
  { name: 'sequential', run: sequentialTasks },
  { name: 'throughput', run: throughput },
  { name: 'footprint', run: idleFootprint },
  { name: 'loader', run: loader },
  { name: 'yaml', run: yamlLoad },
  { name: 'queue', run: queueThroughput },
  { name: 'extract', run: extract10m },
  { name: 'transform', run: duckdbTransform },
  { name: 'quality', run: qualityScan },
  { name: 'examples', run: examplePipelines },
  { name: 'trace', run: traceOverhead },
  { name: 'ui', run: uiGrid },
];

async function main(): Promise<void> {
  const only = process.env.UPDRAFT_BENCH_ONLY?.split(',').map((n) => n.trim());
  for (const name of only ?? []) {
    if (!BENCHMARKS.some((b) => b.name === name)) {
      throw new Error(
        `UPDRAFT_BENCH_ONLY: unknown benchmark '${name}' (known: ${BENCHMARKS.map((b) => b.name).join(', ')})`,
      );
    }
  }
  const machine = describeMachine(machineInfo());
  const started = Date.now();
  const figures: Figure[] = [];
  const failures: string[] = [];
  for (const bench of BENCHMARKS) {
    if (only && !only.includes(bench.name)) continue;
    progress('run-all', `── ${bench.name} ──`);
    try {
      figures.push(...(await bench.run()));
    } catch (error) {
      // One failing benchmark does not hide the figures of the others.
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failures.push(`${bench.name}: ${message}`);
      progress('run-all', `${bench.name} FAILED: ${message}`);
    }
  }
  process.stdout.write(
    `\nmachine: ${machine}\ntook ${Math.round((Date.now() - started) / 1000)} s\n\n${figureTable(figures)}\n`,
  );
  if (failures.length) {
    process.stdout.write(`\nfailed:\n${failures.map((f) => `- ${f}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench] ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

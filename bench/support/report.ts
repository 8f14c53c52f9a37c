/**
 * What a benchmark reports: figures with their target and the same-run baseline they
 * are compared against, printed as they come and gathered into `run-all`'s table.
 */

/** One figure of a benchmark. */
export interface Figure {
  /** Benchmark name (`hand-off latency`). */
  benchmark: string;
  /** What was measured (`p50 on PGlite`). */
  metric: string;
  /** The figure, formatted with its unit. */
  value: string;
  /** The target it is held against (`< 5 ms`), or `—`. */
  target: string;
  /** The baseline measured in the same run, formatted, or `—`. */
  baseline: string;
  /** Whether the target was met; null when there is no target or the row was skipped. */
  met: boolean | null;
}

/** Prints a line of progress to stderr (`[bench] throughput: 2,000 tasks on pglite…`). */
export function progress(benchmark: string, message: string): void {
  process.stderr.write(`[bench] ${benchmark}: ${message}\n`);
}

/** Renders figures as a Markdown table (also readable in a terminal). */
export function figureTable(figures: readonly Figure[]): string {
  const header = ['benchmark', 'metric', 'value', 'target', 'met', 'same-run baseline'];
  const rows = figures.map((f) => [
    f.benchmark,
    f.metric,
    f.value,
    f.target,
    f.met === null ? '—' : f.met ? 'yes' : 'NO',
    f.baseline,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

/**
 * Loader: 1,000 TypeScript pipeline files (one DAG of 5 tasks each) loaded with
 * `loadPipelines` — bundled, imported in the loader process, validated — on a cold
 * bundle cache and again on a warm one; then one changed file re-loaded by a running
 * `DagProcessor` (`refresh()`, without the watcher's debounce).
 *
 * Baseline (same run): `loadPipelines` on a folder with one such file — the fixed cost
 * of a load (loader process start), so the per-file cost of the 1,000 can be read off.
 *
 *     node --import tsx bench/loader.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DagProcessor } from '../src/loader/dag-processor.ts';
import type { FileLoadResult } from '../src/loader/file-load-result.ts';
import { loadPipelines } from '../src/loader/load-pipelines.ts';
import { tempDir } from './support/engine.ts';
import { runMain } from './support/main.ts';
import { type Figure, progress } from './support/report.ts';
import { type Scope, withScope } from './support/scope.ts';
import { monotonicMs, ms } from './support/stats.ts';

const NAME = 'loader';
const FILES = 1000;

/** A small pipeline: DAG `pipeline_<n>`, five tasks in a chain, an hourly schedule. */
function pipelineSource(n: number, version = 1): string {
  return `import { dag } from 'updraft';

export default dag(
  { id: 'pipeline_${n}', schedule: '@hourly', startDate: '2024-01-01', tags: ['bench', 'v${version}'] },
  (d) => {
    const extract = d.task('extract', () => ({ rows: ${n} }));
    const clean = d.task('clean', (ctx) => ctx.upstream.extract);
    const check = d.shell('check', { command: 'echo {{ ds }}' });
    const load = d.task('load', () => null);
    const report = d.task('report', () => 'done');
    d.chain(extract, clean, [check, load], report);
  },
);
`;
}

function writePipelines(dir: string, count: number): void {
  mkdirSync(dir, { recursive: true });
  for (let n = 0; n < count; n++) {
    writeFileSync(path.join(dir, `pipeline_${n}.ts`), pipelineSource(n));
  }
}

/** Loads the folder and checks every file gave its DAG. */
async function timedLoad(dir: string, home: string, expected: number): Promise<number> {
  const t0 = monotonicMs();
  const results = await loadPipelines(dir, home);
  const elapsed = monotonicMs() - t0;
  check(results, expected);
  return elapsed;
}

function check(results: readonly FileLoadResult[], expected: number): void {
  const dags = results.reduce((sum, r) => sum + r.dags.length, 0);
  const issues = results.flatMap((r) => r.issues);
  if (dags !== expected || issues.length) {
    throw new Error(
      `expected ${expected} DAGs, got ${dags}; issues: ${JSON.stringify(issues.slice(0, 3))}`,
    );
  }
}

/** Runs the benchmark; returns its figures. */
export async function loader(): Promise<Figure[]> {
  return withScope(async (scope) => {
    const oneDir = path.join(tempDir(scope, 'loader-one'), 'pipelines');
    writePipelines(oneDir, 1);
    const one = await timedLoad(oneDir, path.dirname(oneDir), 1);
    progress(NAME, `baseline: 1 file: ${ms(one)}`);
    const baseline = `1 file: ${ms(one)}`;

    const home = tempDir(scope, 'loader');
    const dir = path.join(home, 'pipelines');
    writePipelines(dir, FILES);
    progress(NAME, `${FILES} files written; loading them on a cold bundle cache`);
    const cold = await timedLoad(dir, home, FILES);
    progress(NAME, `cold: ${ms(cold)} (${ms((cold - one) / FILES)} per file beyond the first)`);
    const warm = await timedLoad(dir, home, FILES);
    progress(NAME, `warm cache: ${ms(warm)}`);
    const reload = await changedFile(scope, dir, home);
    progress(NAME, `one changed file re-loaded: ${ms(reload)}`);
    return [
      {
        benchmark: NAME,
        metric: `${FILES} TS files, cold bundle cache`,
        value: ms(cold),
        target: '—',
        met: null,
        baseline,
      },
      {
        benchmark: NAME,
        metric: `${FILES} TS files, warm bundle cache`,
        value: ms(warm),
        target: '—',
        met: null,
        baseline: '',
      },
      {
        benchmark: NAME,
        metric: `1 changed file of ${FILES} re-loaded (DagProcessor)`,
        value: ms(reload),
        target: '—',
        met: null,
        baseline: '',
      },
    ];
  });
}

/** Starts a `DagProcessor` on the folder, changes one file, times `refresh()` to its result. */
async function changedFile(scope: Scope, dir: string, home: string): Promise<number> {
  let changed: FileLoadResult | undefined;
  const processor = new DagProcessor({
    pipelinesDir: dir,
    home,
    watch: false,
    onResult: (result) => {
      changed = result;
    },
    onRemoved: () => {},
  });
  scope.defer('stop the DAG processor', () => processor.stop());
  check(await processor.start(), FILES);
  const file = path.join(dir, 'pipeline_7.ts');
  writeFileSync(file, pipelineSource(7, 2));
  const t0 = monotonicMs();
  await processor.refresh();
  const elapsed = monotonicMs() - t0;
  const tags = changed?.dags[0]?.spec.tags ?? [];
  if (changed?.fileloc !== file || !tags.includes('v2')) {
    throw new Error(`the changed file was not re-loaded: ${JSON.stringify(changed)}`);
  }
  return elapsed;
}

runMain(import.meta.url, loader);

/**
 * YAML loader: 1,000 YAML pipeline files of 10 tasks each, in 10 folders, using
 * templates (two levels of `extends`), a root `defaults.yaml`, one `defaults.yaml` per
 * folder and a `defaults` block per file.
 *
 * - cold: a fresh `YamlSource` in this process discovers, parses, checks against the
 *   schema (ajv compiled on first use, included), merges, compiles and validates every
 *   file (`loadPipelines`). Target < 1 s.
 * - reload: a running `DagProcessor` (YAML source only) re-loads after one file changed
 *   (`refresh()`, without the watcher's debounce). Target < 20 ms. The source's parse
 *   counter shows that only the changed file was parsed again.
 * - memory: peak RSS of this process and heap growth while the 1,000 files are kept.
 * Cold figures come with the CPU time of the process, which a busy machine inflates less
 * than wall time.
 *
 * Baseline (same run): `yaml`'s `parse` of the same 1,000 texts, already in memory — the
 * cost of YAML parsing alone, which any YAML loader pays.
 *
 *     node --import tsx bench/yaml-load.ts
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { DagProcessor } from '../src/loader/dag-processor.ts';
import type { FileLoadResult } from '../src/loader/file-load-result.ts';
import { loadPipelines } from '../src/loader/load-pipelines.ts';
import { YamlSource } from '../src/loader/yaml/yaml-source.ts';
import { tempDir } from './support/engine.ts';
import { runMain } from './support/main.ts';
import { type Figure, progress } from './support/report.ts';
import { withScope } from './support/scope.ts';
import { median, monotonicMs, ms } from './support/stats.ts';

const NAME = 'yaml-load';
const FILES = 1000;
const FOLDERS = 10;
/** Changes re-loaded one after the other (the first also warms up the refresh path). */
const RELOADS = 7;

const ROOT_DEFAULTS = `defaults:
  owner: data-eng
  tags: [bench]
  timezone: Europe/Berlin
  taskDefaults:
    retries: 2
    retryDelay: 30s
templates:
  shell_step:
    operator: shell
    config:
      command: "echo {{ ds }}"
      returnOutput: last_line
    executionTimeout: 10m
`;

function folderDefaults(folder: number): string {
  return `defaults:
  tags: [bench, team_${folder}]
  taskDefaults:
    pool: team_${folder}
templates:
  load_step:
    extends: shell_step
    retries: 3
    config:
      env:
        TEAM: "team_${folder}"
`;
}

/** DAG `pipeline_<n>`: ten tasks, two of them in a group, templates of both levels. */
function pipelineYaml(n: number, version = 1): string {
  return `# yaml-language-server: $schema=../../schema/pipeline.schema.json
defaults:
  catchup: false
dags:
  pipeline_${n}:
    description: "Bench pipeline ${n} v${version}"
    schedule: "@hourly"
    startDate: "2024-01-01"
    tasks:
      extract: { extends: shell_step, config: { command: "extract ${n} {{ ds }}" } }
      validate: { extends: shell_step, upstream: [extract] }
      load_a: { extends: load_step, upstream: [validate] }
      load_b: { extends: load_step, upstream: [validate] }
      load_c: { extends: load_step, upstream: [validate], triggerRule: all_done }
      merge: { extends: shell_step, upstream: [load_a, load_b, load_c] }
      publish: { extends: shell_step, upstream: [merge, checks] }
      notify: { extends: shell_step, upstream: [publish], triggerRule: all_done }
    groups:
      checks:
        upstream: [merge]
        tasks:
          rows: { extends: shell_step, config: { command: "check rows ${n}" } }
          nulls: { extends: shell_step, upstream: [checks.rows] }
`;
}

/** Writes the benchmark's pipelines folder into `dir`; returns the pipeline files. */
export function writePipelines(dir: string): string[] {
  writeFileSync(path.join(dir, 'defaults.yaml'), ROOT_DEFAULTS);
  const files: string[] = [];
  for (let folder = 0; folder < FOLDERS; folder++) {
    const sub = path.join(dir, `team_${folder}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(path.join(sub, 'defaults.yaml'), folderDefaults(folder));
  }
  for (let n = 0; n < FILES; n++) {
    const file = path.join(dir, `team_${n % FOLDERS}`, `pipeline_${n}.yaml`);
    writeFileSync(file, pipelineYaml(n));
    files.push(file);
  }
  return files;
}

function check(results: readonly FileLoadResult[]): void {
  const dags = results.reduce((sum, r) => sum + r.dags.length, 0);
  const tasks = results.reduce((sum, r) => sum + (r.dags[0]?.spec.tasks.length ?? 0), 0);
  const issues = results.flatMap((r) => r.issues);
  if (dags !== FILES || tasks !== FILES * 10 || issues.length > 0) {
    throw new Error(
      `expected ${FILES} DAGs of 10 tasks, got ${dags} DAGs, ${tasks} tasks; issues: ${JSON.stringify(issues.slice(0, 3))}`,
    );
  }
}

const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;

/**
 * CPU time of this process since `from` (user + system, all threads: GC included). Less
 * sensitive than wall time to other work on a busy machine.
 */
function cpuMs(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
}

/** Runs the benchmark; returns its figures. */
export async function yamlLoad(): Promise<Figure[]> {
  return withScope(async (scope) => {
    const home = tempDir(scope, 'yaml-load');
    const dir = path.join(home, 'pipelines');
    mkdirSync(dir, { recursive: true });
    const files = writePipelines(dir);
    const texts = files.map((file) => readFileSync(file, 'utf8'));

    let t0 = monotonicMs();
    let cpu0 = process.cpuUsage();
    for (const text of texts) parse(text);
    const parseOnly = monotonicMs() - t0;
    const parseCpu = cpuMs(cpu0);
    progress(
      NAME,
      `baseline: yaml.parse of ${FILES} texts: ${ms(parseOnly)} (CPU ${ms(parseCpu)})`,
    );

    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const rssBefore = process.memoryUsage().rss;
    const source = new YamlSource({ pipelinesDir: dir });
    t0 = monotonicMs();
    cpu0 = process.cpuUsage();
    const results = await loadPipelines(dir, home, { sources: [source] });
    const cold = monotonicMs() - t0;
    const coldCpu = cpuMs(cpu0);
    check(results);
    global.gc?.();
    const heapKept = process.memoryUsage().heapUsed - heapBefore;
    progress(NAME, `cold: ${ms(cold)} (CPU ${ms(coldCpu)}; ${source.parsedCount} files parsed)`);

    const reloadSource = new YamlSource({ pipelinesDir: dir });
    let changed: FileLoadResult | undefined;
    const processor = new DagProcessor({
      pipelinesDir: dir,
      home,
      watch: false,
      sources: [reloadSource],
      onResult: (result) => {
        changed = result;
      },
      onRemoved: () => {},
    });
    scope.defer('stop the DAG processor', () => processor.stop());
    check(await processor.start());
    const parsedBefore = reloadSource.parsedCount;
    const target = files[7] ?? '';
    const reloads: number[] = [];
    for (let version = 2; version < 2 + RELOADS; version++) {
      writeFileSync(target, pipelineYaml(7, version));
      t0 = monotonicMs();
      await processor.refresh();
      reloads.push(monotonicMs() - t0);
      if (
        changed?.fileloc !== target ||
        !changed.dags[0]?.spec.description?.endsWith(`v${version}`)
      ) {
        throw new Error(
          `the changed file was not re-loaded: ${JSON.stringify(changed)?.slice(0, 300)}`,
        );
      }
    }
    const reparsed = (reloadSource.parsedCount - parsedBefore) / RELOADS;
    const reload = median(reloads);
    progress(
      NAME,
      `one changed file re-loaded: median ${ms(reload)}, first ${ms(reloads[0] ?? 0)} of ${RELOADS} (${reparsed} file(s) parsed per change)`,
    );
    const peak = process.resourceUsage().maxRSS * 1024;
    progress(
      NAME,
      `peak RSS ${mib(peak)} (${mib(rssBefore)} before loading), heap kept for ${FILES} files ${mib(heapKept)}`,
    );
    return [
      {
        benchmark: NAME,
        metric: `${FILES} YAML files × 10 tasks, cold validate + load`,
        value: `${ms(cold)} (CPU ${ms(coldCpu)})`,
        target: '< 1 s',
        met: cold < 1000,
        baseline: `yaml.parse alone: ${ms(parseOnly)} (CPU ${ms(parseCpu)})`,
      },
      {
        benchmark: NAME,
        metric: `1 changed file of ${FILES} re-loaded (DagProcessor), median of ${RELOADS}`,
        value: `${ms(reload)} (first ${ms(reloads[0] ?? 0)}; ${reparsed} parsed)`,
        target: '< 20 ms',
        met: reload < 20 && reparsed === 1,
        baseline: '',
      },
      {
        benchmark: NAME,
        metric: `peak RSS / heap kept, ${FILES} YAML files`,
        value: `${mib(peak)} / ${mib(heapKept)}`,
        target: '—',
        met: null,
        baseline: `RSS before loading: ${mib(rssBefore)}`,
      },
    ];
  });
}

runMain(import.meta.url, yamlLoad);

/**
 * The example pipelines at scale (issue 6): `customer_features` and, when it is in
 * `pipelines/`, `events_and_funnels`, on a generated shop with about 10 million
 * transactions in PostgreSQL, each run end to end through Updraft (scheduler, worker
 * processes, parallel extracts, DuckDB transforms, quality checks, committed versions).
 *
 * Figures: wall time and source rows per second of each run. Baseline (same run): the
 * same SQL without Updraft — every extract's query handed out by the server with
 * `COPY ... TO STDOUT` (thrown away: the server's own limit), one after the other, plus
 * every `duckdb` task's query run directly in DuckDB over the same input versions,
 * writing Parquet. Quality checks and commits have no direct counterpart; they are part
 * of Updraft's figure.
 *
 *     node --import tsx bench/example-pipelines.ts
 *     UPDRAFT_BENCH_SCALE=10 node --import tsx bench/example-pipelines.ts   # a quick run
 *     UPDRAFT_BENCH_SHOP_URL=postgres://…/shop …   # reuse a shop seeded at that scale
 *     UPDRAFT_BENCH_PIPELINES=events_and_funnels …  # only some of them
 */
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to } from 'pg-copy-streams';
import type { DagSpec, Json, TaskSpec } from '../src/core/dag-spec.ts';
import { renderTemplate, type TemplateVars } from '../src/core/templating.ts';
import { DuckDbSession, readParquetSql, sqlString } from '../src/data/duckdb-session.ts';
import { STAGED_FILE_BYTES } from '../src/data/stage-version.ts';
import { seedShop } from '../src/examples/seed-shop.ts';
import { openPostgresSeedTarget } from '../src/examples/seed-target.ts';
import { topologicalOrder } from '../src/loader/dag-graph.ts';
import { count, mib, peakChildRss, startDataEngine } from './support/data-engine.ts';
import { createBenchDatabase, tempDir } from './support/engine.ts';
import { runMain } from './support/main.ts';
import { type Figure, progress } from './support/report.ts';
import { withScope } from './support/scope.ts';
import { monotonicMs, ms } from './support/stats.ts';

const NAME = 'example pipelines';
/** Scale 1333 is about 10 million transactions (7,500 per unit of scale). */
const SCALE = Number(process.env.UPDRAFT_BENCH_SCALE ?? 1333);
const PIPELINES_DIR = path.resolve(import.meta.dirname, '..', 'pipelines');
/** `UPDRAFT_BENCH_PIPELINES=events_and_funnels` runs only those (comma-separated). */
const CANDIDATES = (process.env.UPDRAFT_BENCH_PIPELINES ?? 'customer_features,events_and_funnels')
  .split(',')
  .map((name) => name.trim());

export async function examplePipelines(): Promise<Figure[]> {
  return withScope(async (scope) => {
    const files = pipelineFiles();
    if (files.size === 0)
      throw new Error(`none of ${CANDIDATES.join(', ')} is in ${PIPELINES_DIR}`);
    const url = process.env.UPDRAFT_BENCH_SHOP_URL ?? (await seededShop(scope));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    scope.defer('close the source client', () => client.end());
    const [{ transactions }] = (
      await client.query<{ transactions: number }>(
        'select count(*)::float8 as transactions from shop.transactions',
      )
    ).rows as [{ transactions: number }];

    process.env.UPDRAFT_CONN_SHOP_SOURCE = url;
    scope.defer('unset the connection', () => {
      delete process.env.UPDRAFT_CONN_SHOP_SOURCE;
    });
    const engine = await startDataEngine(scope, {}, 2);
    const pipelinesDir = path.join(engine.home, 'pipelines');
    for (const file of new Set(files.values()))
      cpSync(file, path.join(pipelinesDir, path.basename(file)));
    copySupportFiles(pipelinesDir);
    await engine.runtime.ops.listDags(); // the loader picks the files up on its own

    const figures: Figure[] = [];
    for (const dagId of files.keys()) {
      await waitForDag(engine, dagId);
      progress(NAME, `${dagId}: through Updraft…`);
      const wallMs = await engine.runDag(dagId, 'bench');
      const peak = peakChildRss();
      const spec = await dagSpec(engine, dagId);
      const sourceRows = await extractedRows(engine, spec);
      progress(
        NAME,
        `${dagId}: ${count(sourceRows)} source rows in ${ms(wallMs)}; the same SQL directly…`,
      );
      const direct = await directRun(scope, client, engine, spec);
      const baseline = direct.extractMs + direct.transformMs;
      figures.push(
        {
          benchmark: NAME,
          metric: `${dagId}, ${count(transactions)} transactions: wall time (source rows/s)`,
          value: `${ms(wallMs)} (${count((sourceRows / wallMs) * 1000)} rows/s, ${(wallMs / baseline).toFixed(2)}×)`,
          target: '—',
          baseline: `same SQL directly: ${ms(baseline)} (COPY out ${ms(direct.extractMs)} + DuckDB ${ms(direct.transformMs)})`,
          met: null,
        },
        {
          benchmark: NAME,
          metric: `${dagId}: slowest tasks, worker peak memory`,
          value: (await slowestTasks(engine, dagId)).join(', '),
          target: '—',
          baseline: `worker peak ${mib(peak)}`,
          met: null,
        },
      );
    }
    return figures;
  });
}

/** The candidate DAGs present in `pipelines/`, with their files. */
function pipelineFiles(): Map<string, string> {
  const found = new Map<string, string>();
  for (const name of readdirSync(PIPELINES_DIR)) {
    const dagId = name.replace(/\.(ya?ml|ts)$/, '');
    if (CANDIDATES.includes(dagId)) found.set(dagId, path.join(PIPELINES_DIR, name));
  }
  return found;
}

/** `defaults.yaml` and the folders next to the pipelines (SQL models, …). */
function copySupportFiles(target: string): void {
  for (const name of readdirSync(PIPELINES_DIR)) {
    const from = path.join(PIPELINES_DIR, name);
    if (name === 'defaults.yaml' || statSync(from).isDirectory()) {
      cpSync(from, path.join(target, name), { recursive: true });
    }
  }
}

async function seededShop(scope: Parameters<typeof createBenchDatabase>[0]): Promise<string> {
  const url = await createBenchDatabase(scope);
  progress(NAME, `seeding the shop at scale ${SCALE} into PostgreSQL…`);
  const target = await openPostgresSeedTarget(url, 'the bench database');
  const t0 = monotonicMs();
  let lastTable = '';
  try {
    await seedShop(target, {
      scale: SCALE,
      onProgress: (p) => {
        if (p.done && p.table !== lastTable) {
          lastTable = p.table;
          progress(NAME, `  ${p.table}: ${count(p.rows)} rows`);
        }
      },
      onKeys: () => progress(NAME, '  adding keys…'),
    });
  } finally {
    await target.close();
  }
  progress(NAME, `seeded in ${ms(monotonicMs() - t0)}`);
  return url;
}

async function waitForDag(engine: Awaited<ReturnType<typeof startDataEngine>>, dagId: string) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const dags = await engine.runtime.ops.listDags();
    if (dags.some((d) => d.dagId === dagId)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  const errors = await engine.runtime.ops.listImportErrors();
  throw new Error(`dag '${dagId}' did not load: ${JSON.stringify(errors)}`);
}

async function dagSpec(
  engine: Awaited<ReturnType<typeof startDataEngine>>,
  dagId: string,
): Promise<DagSpec> {
  const dag = await engine.runtime.ops.getDag(dagId);
  return dag.spec;
}

/** Rows the run's extract tasks wrote (the source rows it read). */
async function extractedRows(
  engine: Awaited<ReturnType<typeof startDataEngine>>,
  spec: DagSpec,
): Promise<number> {
  let rows = 0;
  for (const task of spec.tasks.filter((t) => t.operator === 'extract')) {
    const dataset = String(task.config.dataset);
    rows += (await engine.datasets.showVersion(dataset)).rows;
  }
  return rows;
}

/**
 * The run's SQL without Updraft: COPY out of each extract, then each duckdb query — of
 * the tasks that succeeded in the bench run (a task that failed or was skipped did not
 * do its work there either).
 */
async function directRun(
  scope: Parameters<typeof tempDir>[0],
  client: pg.Client,
  engine: Awaited<ReturnType<typeof startDataEngine>>,
  spec: DagSpec,
): Promise<{ extractMs: number; transformMs: number }> {
  let extractMs = 0;
  let transformMs = 0;
  const out = tempDir(scope, 'direct');
  const run = await engine.runtime.ops.getRun(spec.dagId, 'bench');
  const succeeded = new Set(run.tasks.filter((t) => t.state === 'success').map((t) => t.taskId));
  for (const task of topologicalOrder(spec.tasks)) {
    if (!succeeded.has(task.taskId)) continue;
    if (task.operator === 'extract') {
      const query =
        typeof task.config.query === 'string'
          ? task.config.query
          : `select * from ${String(task.config.table)}`;
      const t0 = monotonicMs();
      await pipeline(
        client.query(to(`copy (${query}) to stdout with (format csv)`)),
        new Writable({ write: (_c, _e, done) => done() }),
      );
      extractMs += monotonicMs() - t0;
    } else if (task.operator === 'duckdb' && typeof task.config.output === 'string') {
      const session = await DuckDbSession.open({
        memoryLimit: '1GB',
        tempDirectory: path.join(out, 'spill'),
      });
      try {
        for (const inlet of task.inlets) {
          const version = await engine.datasets.showVersion(inlet);
          await session.run(
            `create view "${version.dataset}" as select * from ${readParquetSql(version.location)}`,
            'direct',
          );
        }
        // The task's templates, rendered as in the bench run (params, upstream results).
        const vars = await templateVars(engine, spec.dagId, task);
        const t0 = monotonicMs();
        if (typeof task.config.setup === 'string')
          await session.run(renderTemplate(task.config.setup, vars), 'direct');
        await session.run(
          `copy (${renderTemplate(String(task.config.query), vars)}) to ${sqlString(path.join(out, task.taskId))} ${session.parquetCopyOptions(STAGED_FILE_BYTES)}`,
          'direct',
        );
        transformMs += monotonicMs() - t0;
      } finally {
        session.close();
      }
    }
  }
  if (!existsSync(out)) throw new Error(`no output in ${out}`);
  return { extractMs, transformMs };
}

/** Template variables of `task` in the bench run: its params and its upstream results. */
async function templateVars(
  engine: Awaited<ReturnType<typeof startDataEngine>>,
  dagId: string,
  task: TaskSpec,
): Promise<TemplateVars> {
  const run = await engine.runtime.ops.getRun(dagId, 'bench');
  const upstream: { [taskId: string]: Json } = {};
  for (const id of task.upstream) {
    const result = (await engine.runtime.ops.getTaskInstance(dagId, 'bench', id)).result;
    if (result !== undefined) upstream[id] = result;
  }
  return { params: run.params, upstream, dag_id: dagId, run_id: 'bench', task_id: task.taskId };
}

/** The three longest tasks of the bench run, as `task 12.3 s`. */
async function slowestTasks(
  engine: Awaited<ReturnType<typeof startDataEngine>>,
  dagId: string,
): Promise<string[]> {
  const run = await engine.runtime.ops.getRun(dagId, 'bench');
  return run.tasks
    .filter((t) => t.startedAt !== null && t.endedAt !== null)
    .map((t) => ({
      id: t.taskId,
      ms: Date.parse(t.endedAt as string) - Date.parse(t.startedAt as string),
    }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 3)
    .map((t) => `${t.id} ${ms(t.ms)}`);
}

runMain(import.meta.url, examplePipelines);

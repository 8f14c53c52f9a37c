/**
 * The README's datasets examples are real pipelines: they load, with their inlets and
 * outlets, and the `ctx.datasets` one runs against a real store.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPipelines } from '../../src/loader/load-pipelines.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import { type DataHarness, openDataHarness, readVersionRows } from './support.ts';

const readme = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
const example = /## Datasets[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
const dir = mkdtempSync(path.join(os.tmpdir(), 'updraft-readme-data-'));

describe('README datasets example', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads without issues, with the inlets and outlets it shows', async () => {
    expect(example).toBeDefined();
    mkdirSync(path.join(dir, 'pipelines'), { recursive: true });
    writeFileSync(path.join(dir, 'pipelines', 'orders_daily.ts'), example ?? '');
    const [file] = await loadPipelines(path.join(dir, 'pipelines'), path.join(dir, 'home'));
    expect(file?.issues).toEqual([]);
    const tasks = file?.dags[0]?.spec.tasks.map(
      (t) => `${t.taskId} ${t.operator} <${t.inlets}> >${t.outlets}>`,
    );
    expect(tasks).toEqual([
      'extract extract <> >orders>',
      'totals duckdb <orders> >customer_totals>',
      'load load <customer_totals> >>',
    ]);
  });
});

const tsExample = /\*\*From TypeScript tasks\*\*[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
const pglite = STORE_BACKENDS.find((b) => b.name === 'pglite');

describe.runIf(pglite !== undefined)('README ctx.datasets example', () => {
  let h: DataHarness;
  beforeAll(async () => {
    if (pglite === undefined) return;
    // The harness runs ts tasks from its pipeline file: the example is that file.
    h = await openDataHarness(pglite, { pipeline: tsExample ?? '' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('loads, and scores the reviews it reads into a new version', async () => {
    expect(tsExample).toBeDefined();
    const [file] = await loadPipelines(h.pipelineDir, h.home);
    expect(file?.issues).toEqual([]);
    const score = file?.dags[0]?.spec.tasks.find((t) => t.taskId === 'score');
    expect(score).toMatchObject({ inlets: ['reviews'], outlets: ['review_scores'] });

    const run = {
      runPk: await h.createRun('review_sentiment', 'r1'),
      dagId: 'review_sentiment',
      runId: 'r1',
    };
    const seeded = await h.runTask(run, {
      taskId: 'seed',
      operator: 'duckdb',
      config: {
        query: `select * from (values (1, 'Great fit, love it'), (2, 'Bad: broken zip'), (3, null)) as t(review_id, body)`,
        output: 'reviews',
      },
    });
    expect(seeded.outcome.error?.message).toBeUndefined();
    const { outcome } = await h.runTask(run, score ?? { taskId: 'score' });
    expect(outcome.error?.message).toBeUndefined();
    const version = await h.ops.showVersion('review_scores');
    expect(version.manifest.inputs).toEqual([{ dataset: 'reviews', version: 1 }]);
    expect(await readVersionRows(version.location, 'review_id')).toEqual([
      { review_id: '1', score: 2 },
      { review_id: '2', score: -2 },
      { review_id: '3', score: 0 },
    ]);
  });
});

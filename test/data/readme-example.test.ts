/** The README's datasets example is a real pipeline: it loads, with its inlets and outlets. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipelines } from '../../src/loader/load-pipelines.ts';

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

/**
 * The README's alerting example is real: it loads without issues and declares the
 * notify lists and deadlines it describes.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipelines } from '../../src/loader/load-pipelines.ts';

const root = path.resolve(import.meta.dirname, '../..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const example = /## Alerting, metrics and traces[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
const dir = mkdtempSync(path.join(os.tmpdir(), 'updraft-readme-alerting-'));

describe('README alerting example', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads with its notify lists and deadlines', async () => {
    expect(example).toBeDefined();
    mkdirSync(path.join(dir, 'pipelines'), { recursive: true });
    writeFileSync(path.join(dir, 'pipelines', 'hourly_etl.ts'), example ?? '');
    const [file] = await loadPipelines(path.join(dir, 'pipelines'), path.join(dir, 'home'));
    expect(file?.issues).toEqual([]);
    const spec = file?.dags[0]?.spec;
    expect(spec?.deadline).toEqual({ afterMs: 600_000, from: 'logical_date' });
    expect(spec?.notify).toEqual({
      onSuccess: [],
      onFailure: ['oncall'],
      onRetry: [],
      onDeadlineMiss: ['oncall', 'lead_mail'],
    });
    const load = spec?.tasks.find((t) => t.taskId === 'load');
    expect(load?.deadline).toEqual({ afterMs: 300_000, from: 'start' });
    expect(load?.notify.onRetry).toEqual(['etl_channel']);
    expect(load?.notify.onFailure).toEqual(['etl_channel']);
  });
});

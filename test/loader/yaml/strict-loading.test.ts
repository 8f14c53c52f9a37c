/**
 * Strict loading (`UPDRAFT_STRICT_PIPELINES=true`, or `strict`): one bad file stops every
 * DAG; without it, the other files load.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FileLoadResult } from '../../../src/loader/file-load-result.ts';
import { loadPipelines } from '../../../src/loader/load-pipelines.ts';
import { YamlSource } from '../../../src/loader/yaml/yaml-source.ts';
import { tempPipelines } from '../helpers.ts';

const FILES = {
  'good.yaml':
    'dags:\n  good:\n    tasks:\n      t: { operator: shell, config: { command: "true" } }\n',
  'bad.yaml':
    'dags:\n  bad:\n    tasks:\n      t: { operator: shell, config: { command: x }, retries: -1 }\n',
};

async function load(strict?: boolean): Promise<Record<string, FileLoadResult>> {
  const dir = await tempPipelines(FILES);
  const results = await loadPipelines(dir, dir, {
    sources: [new YamlSource({ pipelinesDir: dir })],
    strict,
  });
  return Object.fromEntries(results.map((r) => [r.fileloc.split('/').pop(), r]));
}

describe('strict loading', () => {
  const before = process.env.UPDRAFT_STRICT_PIPELINES;
  afterEach(() => {
    if (before === undefined) delete process.env.UPDRAFT_STRICT_PIPELINES;
    else process.env.UPDRAFT_STRICT_PIPELINES = before;
  });

  it('loads the good file beside a bad one by default', async () => {
    delete process.env.UPDRAFT_STRICT_PIPELINES;
    const results = await load();
    expect(results['good.yaml']?.dags.map((d) => d.spec.dagId)).toEqual(['good']);
    expect(results['bad.yaml']?.issues).toHaveLength(1);
  });

  it('loads nothing when any file is bad, saying which', async () => {
    process.env.UPDRAFT_STRICT_PIPELINES = 'true';
    for (const results of [await load(), await load(true)]) {
      expect(results['good.yaml']?.dags).toEqual([]);
      expect(results['good.yaml']?.issues).toEqual([
        expect.objectContaining({
          message: expect.stringMatching(
            /^not loaded: strict loading is on and .*bad\.yaml has errors$/,
          ),
        }),
      ]);
    }
    expect((await load(false))['good.yaml']?.dags).toHaveLength(1);
  });
});

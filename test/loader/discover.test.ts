import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PipelineLoader } from '../../src/loader/pipeline-loader.ts';
import { tempDir, tempPipelines } from './helpers.ts';

const FILES = [
  'a.ts',
  'b.mts',
  'c.js',
  'd.mjs',
  'sub/deeper/e.ts',
  'types.d.ts',
  'a.test.ts',
  'b.spec.mjs',
  'notes.md',
  'data.json',
  'node_modules/pkg/index.js',
  '.hidden/x.ts',
  'sub/.secret.ts',
  'scratch/tmp.ts',
  'sub/old/legacy.ts',
  'drafts_1.ts',
];

describe('pipeline discovery', () => {
  it('finds pipeline files recursively, skipping what is not a pipeline', async () => {
    const dir = await tempPipelines(Object.fromEntries(FILES.map((f) => [f, '// x\n'])));
    const loader = new PipelineLoader({ pipelinesDir: dir, home: await tempDir() });
    const found = (await loader.discover()).map((f) => path.relative(dir, f));
    expect(found).toEqual([
      'a.ts',
      'b.mts',
      'c.js',
      'd.mjs',
      'drafts_1.ts',
      'scratch/tmp.ts',
      'sub/deeper/e.ts',
      'sub/old/legacy.ts',
    ]);
    await loader.close();
  });

  it('skips what .updraftignore lists', async () => {
    const dir = await tempPipelines({
      ...Object.fromEntries(FILES.map((f) => [f, '// x\n'])),
      '.updraftignore': '# not pipelines\nscratch/\nold\ndrafts_?.ts\n/c.js\n',
      'sub/c.js': '// kept: the /c.js pattern is anchored\n',
    });
    const loader = new PipelineLoader({ pipelinesDir: dir, home: await tempDir() });
    const found = (await loader.discover()).map((f) => path.relative(dir, f));
    expect(found).toEqual(['a.ts', 'b.mts', 'd.mjs', 'sub/c.js', 'sub/deeper/e.ts']);
    await loader.close();
  });
});

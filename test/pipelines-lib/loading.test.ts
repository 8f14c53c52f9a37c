/**
 * pipelines/lib is loadable the way pipeline files use it: a pipeline importing
 * `./lib/text.ts` by relative path is bundled with it (ADR 2), `.updraftignore` keeps
 * the loader from treating the library's files as pipelines, and an edit of a library
 * file reaches the pipelines that import it (a new code hash, the new behaviour).
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipelines } from '../../src/loader/load-pipelines.ts';
import { tempDir, tempPipelines } from '../loader/helpers.ts';

const PIPELINES = path.resolve(import.meta.dirname, '../../pipelines');

/** A pipeline whose DAG tags are the tokens of a sentence, as the library makes them. */
const WORDS_PIPELINE = `import { dag } from 'updraft';
import { tokenise } from './lib/text.ts';

export default dag({ id: 'words', tags: tokenise('The Lamp and the Kettle!') }, (d) => {
  d.task('t', () => tokenise('a lamp').length);
});
`;

describe('pipelines/lib from a pipeline file', () => {
  it('is bundled with the pipeline, not loaded on its own, and edits of it are picked up', async () => {
    const dir = await tempPipelines({ 'words.ts': WORDS_PIPELINE });
    await cp(path.join(PIPELINES, 'lib'), path.join(dir, 'lib'), { recursive: true });
    await cp(path.join(PIPELINES, '.updraftignore'), path.join(dir, '.updraftignore'));
    const home = await tempDir('updraft-home-');

    const first = await loadPipelines(dir, home, { strict: false });
    expect(first.map((r) => path.relative(dir, r.fileloc))).toEqual(['words.ts']);
    const [words] = first;
    expect(words?.issues).toEqual([]);
    expect(words?.dags[0]?.spec.tags).toEqual(['lamp', 'kettle']);

    // 'lamp' becomes a stop word: the pipeline's spec and code hash follow.
    const text = path.join(dir, 'lib', 'text.ts');
    const source = await readFile(text, 'utf8');
    await writeFile(text, source.replace("'a about above ", "'lamp a about above "));
    const second = await loadPipelines(dir, home, { strict: false });
    expect(second[0]?.dags[0]?.spec.tags).toEqual(['kettle']);
    expect(second[0]?.codeHash).not.toBe(words?.codeHash);
  }, 120_000);
});

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundlePipeline } from '../../src/loader/bundle.ts';
import { importPipeline } from '../../src/loader/import-pipeline.ts';
import { UPDRAFT_ENTRY_URL } from '../../src/loader/runtime-paths.ts';
import { linkNodeModules, tempDir, tempPipelines, writeText } from './helpers.ts';

const PIPELINE = [
  "import { dag } from 'updraft';",
  "import { label } from './lib/label.ts';",
  'export default dag({ id: "bundled" }, (d) => {',
  "  d.task('t', () => label());",
  '});',
  '',
].join('\n');

describe('bundlePipeline', () => {
  it('changes the code hash when an imported helper changes, and only then', async () => {
    const dir = await tempPipelines({
      'p.ts': PIPELINE,
      'lib/label.ts': "export const label = () => 'one';\n",
    });
    const cache = await tempDir();
    const first = await bundlePipeline(path.join(dir, 'p.ts'), cache);
    const again = await bundlePipeline(path.join(dir, 'p.ts'), cache);
    await writeText(path.join(dir, 'lib/label.ts'), "export const label = () => 'two';\n");
    const changed = await bundlePipeline(path.join(dir, 'p.ts'), cache);
    if (!first.ok || !again.ok || !changed.ok) throw new Error('bundling failed');
    expect(again.codeHash).toBe(first.codeHash);
    expect(changed.codeHash).not.toBe(first.codeHash);
    expect(first.inputs.sort()).toEqual([path.join(dir, 'lib/label.ts'), path.join(dir, 'p.ts')]);
    expect((await readdir(cache)).sort()).toEqual(
      [`${first.codeHash}.mjs`, `${changed.codeHash}.mjs`].sort(),
    );
  });

  it('gives the same code hash whatever the bundle cache (home folder) is', async () => {
    // Workers on other machines have their own home: the hash must not depend on it.
    const dir = await tempPipelines({
      'p.ts': PIPELINE,
      'lib/label.ts': "export const label = () => 'one';\n",
    });
    const here = await bundlePipeline(path.join(dir, 'p.ts'), await tempDir());
    const there = await bundlePipeline(
      path.join(dir, 'p.ts'),
      path.join(await tempDir(), 'deeper', 'cache'),
    );
    if (!here.ok || !there.ok) throw new Error('bundling failed');
    expect(there.codeHash).toBe(here.codeHash);
  });

  it('keeps npm packages external by absolute URL and points updraft at this repository', async () => {
    const dir = await tempPipelines({
      'p.ts':
        "import { Kysely } from 'kysely';\nimport { dag } from 'updraft';\nexport const names = [Kysely.name, typeof dag];\n",
    });
    await linkNodeModules(dir);
    const bundle = await bundlePipeline(path.join(dir, 'p.ts'), await tempDir());
    if (!bundle.ok) throw new Error(JSON.stringify(bundle.issues));
    const text = await readFile(bundle.bundlePath, 'utf8');
    expect(text).toContain(`from "${UPDRAFT_ENTRY_URL}"`);
    expect(UPDRAFT_ENTRY_URL).toBe(pathToFileURL(path.resolve('src/index.ts')).href);
    expect(text).toMatch(/from "file:\/\/\/[^"]*\/node_modules\/kysely\/[^"]+"/);
    expect(text).not.toContain('class Kysely');
  });

  it("keeps each module's own import.meta.url, dirname and filename", async () => {
    const dir = await tempPipelines({
      'p.ts': [
        "import { dag } from 'updraft';",
        "import { where } from './lib/where.ts';",
        'export default dag({ id: "meta" }, (d) => {',
        "  d.task('t', () => ({ main: import.meta.url, helper: where(), dir: import.meta.dirname ?? null }));",
        '});',
        '',
      ].join('\n'),
      'lib/where.ts': 'export const where = () => import.meta.filename ?? null;\n',
    });
    const { dags } = await importPipeline(path.join(dir, 'p.ts'), undefined, {
      home: await tempDir(),
    });
    expect(await dags[0]?.taskFunction('t')?.({} as never)).toEqual({
      main: pathToFileURL(path.join(dir, 'p.ts')).href,
      helper: path.join(dir, 'lib/where.ts'),
      dir,
    });
  });
});

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecError } from '../../src/core/errors.ts';
import type { TaskContext } from '../../src/core/task-context.ts';
import { importPipeline } from '../../src/loader/import-pipeline.ts';
import { FIXTURES, pipelineText, tempDir, tempPipelines, writeText } from './helpers.ts';

describe('importPipeline', () => {
  it("finds a ts task's function, also in a group and in a file importing a helper", async () => {
    const home = await tempDir();
    const sales = await importPipeline(path.join(FIXTURES, 'daily_sales.ts'), undefined, { home });
    expect(sales.codeHash).toMatch(/^[0-9a-f]{64}$/);
    const [daily] = sales.dags;
    expect(daily?.dagId).toBe('daily_sales');
    expect(await daily?.taskFunction('extract')?.({} as TaskContext)).toEqual({ rows: 10 });
    const ctx = { upstream: { extract: { rows: 3 } } } as unknown as TaskContext;
    expect(await daily?.taskFunction('transform.clean')?.(ctx)).toEqual({ rows: 3 });
    expect(daily?.taskFunction('echo')).toBeUndefined();

    const helper = await importPipeline(path.join(FIXTURES, 'with_helper.ts'), undefined, { home });
    expect(await helper.dags[0]?.taskFunction('greet')?.({} as TaskContext)).toBe('hello 3');
  });

  it('imports the cached version asked for, even after the file changed', async () => {
    const dir = await tempPipelines({ 'p.ts': pipelineText('versions', 'v1') });
    const home = await tempDir();
    const file = path.join(dir, 'p.ts');
    const v1 = await importPipeline(file, undefined, { home });
    await writeText(file, pipelineText('versions', 'v2'));
    const current = await importPipeline(file, undefined, { home });
    expect(current.codeHash).not.toBe(v1.codeHash);
    expect(await current.dags[0]?.taskFunction('t')?.({} as TaskContext)).toBe('v2');

    const old = await importPipeline(file, v1.codeHash, { home });
    expect(old.codeHash).toBe(v1.codeHash);
    expect(await old.dags[0]?.taskFunction('t')?.({} as TaskContext)).toBe('v1');
    // A warm process gets the same module back, not a new import.
    expect((await importPipeline(file, v1.codeHash, { home })).dags[0]).toBe(old.dags[0]);
  });

  it('bundles the current file when the version asked for is not cached, and says so', async () => {
    const dir = await tempPipelines({ 'p.ts': pipelineText('uncached', 'now') });
    const result = await importPipeline(path.join(dir, 'p.ts'), 'f'.repeat(64), {
      home: await tempDir(),
    });
    expect(result.codeHash).not.toBe('f'.repeat(64));
    expect(await result.dags[0]?.taskFunction('t')?.({} as TaskContext)).toBe('now');
  });

  it('throws a SpecError naming the line when the file does not build', async () => {
    const dir = await tempPipelines({ 'bad.ts': 'export const = 1;\n' });
    const attempt = importPipeline(path.join(dir, 'bad.ts'), undefined, { home: await tempDir() });
    await expect(attempt).rejects.toBeInstanceOf(SpecError);
    await expect(attempt).rejects.toThrow(`${path.join(dir, 'bad.ts')}:1:`);
  });

  it('throws what the top-level code throws', async () => {
    const dir = await tempPipelines({ 'boom.ts': "throw new Error('no config');\n" });
    await expect(
      importPipeline(path.join(dir, 'boom.ts'), undefined, { home: await tempDir() }),
    ).rejects.toThrow('no config');
  });
});

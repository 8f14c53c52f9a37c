import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipelines } from '../../src/loader/load-pipelines.ts';
import { TypeScriptSource } from '../../src/loader/typescript-source.ts';
import { pipelineText, tempDir, tempPipelines } from './helpers.ts';

describe('the loader process', () => {
  it('survives a file that exits the process, and loads the files after it', async () => {
    const dir = await tempPipelines({
      'a_exits.ts': "console.error('leaving now');\nprocess.exit(3);\n",
      'b_good.ts': pipelineText('after_exit'),
    });
    const [exits, good] = await loadPipelines(dir, await tempDir());
    expect(exits?.issues).toEqual([
      {
        file: path.join(dir, 'a_exits.ts'),
        message:
          'the loader process exited with code 3 while importing this file; its last output: leaving now',
        hint: 'does its top-level code call process.exit() or crash the process?',
      },
    ]);
    expect(good?.dags.map((d) => d.spec.dagId)).toEqual(['after_exit']);
  });

  it('gives up on a file whose import never finishes, and loads the files after it', async () => {
    const dir = await tempPipelines({
      'a_hangs.ts': 'await new Promise(() => { setInterval(() => {}, 1000); });\n',
      'b_good.ts': pipelineText('after_hang'),
    });
    // Long enough for a fresh loader process to import the good file on a busy machine.
    const source = new TypeScriptSource({ home: await tempDir(), importTimeoutMs: 2000 });
    const [hangs, good] = await loadPipelines(dir, await tempDir(), { sources: [source] });
    expect(hangs?.issues).toEqual([
      expect.objectContaining({
        message: 'importing the file did not finish within 2000 ms',
        hint: expect.stringContaining('never settles'),
      }),
    ]);
    expect(good?.dags.map((d) => d.spec.dagId)).toEqual(['after_hang']);
  });

  it('runs pipeline code in a child process, replaced after maxImportsPerProcess imports', async () => {
    // Each DAG records the pid of the process that built it in its description.
    const text = (i: number) =>
      `import { dag } from 'updraft';\nexport default dag({ id: 'dag_${i}', description: String(process.pid) }, () => {});\n`;
    const dir = await tempPipelines(
      Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`p${i}.ts`, text(i)])),
    );
    const source = new TypeScriptSource({ home: await tempDir(), maxImportsPerProcess: 2 });
    const results = await loadPipelines(dir, await tempDir(), { sources: [source] });
    const specs = results.flatMap((r) => r.dags.map((d) => d.spec));
    expect(specs.map((s) => s.dagId)).toEqual(['dag_0', 'dag_1', 'dag_2', 'dag_3', 'dag_4']);
    const pids = new Set(specs.map((s) => Number(s.description)));
    expect(pids.has(process.pid)).toBe(false);
    expect(pids.size).toBe(3);
  });
});

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('the operator registry', () => {
  it('registers the data operators and builds ctx.datasets without loading DuckDB or pg-copy-streams', () => {
    // A fresh process records every native addon it loads while importing the registry.
    const script = `
      const loaded = [];
      const dlopen = process.dlopen;
      process.dlopen = (module, file, ...rest) => { loaded.push(file); return dlopen(module, file, ...rest); };
      const registry = await import('./src/operators/registry.ts');
      // The updraft package and ctx.datasets (built for every ts task) load nothing either.
      await import('./src/index.ts');
      const { createTaskDatasets } = await import('./src/data/task-datasets.ts');
      createTaskDatasets({ taskId: 't', attempt: { task: { outlets: [] } } });
      const names = registry.listOperators().map((o) => o.name);
      process.stdout.write(JSON.stringify({ names, loaded }));`;
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: new URL('../..', import.meta.url),
        encoding: 'utf8',
      },
    );
    const { names, loaded } = JSON.parse(out) as { names: string[]; loaded: string[] };
    expect(names).toEqual(
      expect.arrayContaining(['duckdb', 'extract', 'http', 'load', 'promote', 'snapshot', 'sql']),
    );
    expect(loaded.filter((file) => file.includes('duckdb'))).toEqual([]);
  });
});

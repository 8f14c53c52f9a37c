/** `findYamlDag` (behind `updraft dags test` for YAML DAGs): finds, builds, or refuses. */
import { describe, expect, it } from 'vitest';
import { SpecError } from '../../../src/core/errors.ts';
import { findYamlDag } from '../../../src/loader/yaml/find-yaml-dag.ts';
import { tempPipelines } from '../helpers.ts';

describe('findYamlDag', () => {
  it('returns the built DAG of the file defining it, and undefined for an unknown id', async () => {
    const dir = await tempPipelines({
      'other.yaml':
        'dags:\n  other:\n    tasks:\n      t: { operator: shell, config: { command: x } }\n',
      'sub/daily.yaml':
        'dags:\n  daily:\n    tasks:\n      t: { operator: shell, config: { command: y } }\n',
    });
    const found = await findYamlDag(dir, 'daily');
    expect(found?.fileloc).toBe(`${dir}/sub/daily.yaml`);
    expect(found?.codeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(found?.dag.spec.tasks.map((t) => t.config)).toEqual([{ command: 'y' }]);
    expect(await findYamlDag(dir, 'weekly')).toBeUndefined();
  });

  it('throws a SpecError with the located issues of a bad DAG', async () => {
    const dir = await tempPipelines({
      'bad.yaml':
        'dags:\n  bad:\n    tasks:\n      t: { operator: shel, config: { command: x } }\n',
    });
    const error = await findYamlDag(dir, 'bad').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).issues).toEqual([
      expect.objectContaining({
        line: 4,
        field: 'dags.bad.tasks.t.operator',
        hint: "did you mean 'shell'?",
      }),
    ]);
  });
});

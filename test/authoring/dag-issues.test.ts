import { describe, expect, it } from 'vitest';
import { dag } from '../../src/authoring/dag.ts';
import type { DagOptions, TaskOptions, TaskRef } from '../../src/authoring/types.ts';
import type { TaskFunction } from '../../src/core/task-context.ts';

const THIS_FILE = expect.stringMatching(/dag-issues\.test\.ts$/);

describe('problems while building a DAG', () => {
  it('reports a duplicate task id at the second declaration, naming the first line', () => {
    const built = dag({ id: 'dup' }, (d) => {
      d.task('load', () => null);
      d.task('load', () => 'second');
    });
    const first = built.sourceLocation('load').line ?? 0;
    expect(built.issues).toEqual([
      {
        file: THIS_FILE,
        line: first + 1,
        column: expect.any(Number),
        dagId: 'dup',
        taskId: 'load',
        message: `task id 'load' is already used by a task declared at line ${first}`,
        hint: 'give every task a unique id',
      },
    ]);
    // The first declaration keeps the id and its function.
    expect(built.spec.tasks).toHaveLength(1);
    expect(built.taskFunction('load')?.({} as never)).toBeNull();
  });

  it('reports a task id that a group already uses, and the reverse', () => {
    const built = dag({ id: 'clash' }, (d) => {
      d.group('etl', () => {});
      d.task('etl', () => null);
      d.task('report', () => null);
      d.group('report', () => {});
    });
    expect(built.issues.map((i) => i.message)).toEqual([
      expect.stringContaining("task id 'etl' is already used by a group"),
      expect.stringContaining("id 'report' is already used by a task"),
    ]);
  });

  it('refuses dependencies on tasks of another DAG', () => {
    let foreign: TaskRef | undefined;
    dag({ id: 'other' }, (d) => {
      foreign = d.task('elsewhere', () => null);
    });
    const built = dag({ id: 'mine' }, (d) => {
      const t = d.task('t', () => null);
      if (foreign) t.after(foreign);
    });
    expect(built.issues).toEqual([
      expect.objectContaining({
        dagId: 'mine',
        file: THIS_FILE,
        message:
          "a dependency names 'elsewhere' of dag 'other', which is not a task or group of this DAG",
      }),
    ]);
    expect(built.spec.tasks[0]?.upstream).toEqual([]);
  });

  it('reports values that are not tasks used as dependencies', () => {
    const built = dag({ id: 'not_nodes' }, (d) => {
      d.task('t', { upstream: [42 as unknown as string, null as unknown as string] }, () => null);
    });
    expect(built.issues.map((i) => i.message)).toEqual([
      'a dependency is a number, not a task, a group or a task id',
      'a dependency is null, not a task, a group or a task id',
    ]);
  });

  it('keeps an unknown upstream id in the spec for the validator to report with a hint', () => {
    const built = dag({ id: 'unknown' }, (d) => {
      d.task('extract', () => null);
      d.task('load', () => null).after('extarct');
    });
    expect(built.issues).toEqual([]);
    expect(built.spec.tasks.find((t) => t.taskId === 'load')?.upstream).toEqual(['extarct']);
  });

  it('reports bad durations and dates with the field, using the default instead', () => {
    const built = dag(
      {
        id: 'bad_values',
        startDate: '2026-02-30',
        endDate: 'next tuesday',
        dagrunTimeout: '2 fortnights',
        defaults: { retryDelay: 'soon' },
      },
      (d) => {
        d.task('t', { executionTimeout: -5 }, () => null);
      },
    );
    const byField = Object.fromEntries(built.issues.map((i) => [i.field, i.message]));
    expect(byField).toEqual({
      startDate: "'2026-02-30' is not a valid calendar date and time",
      endDate: expect.stringContaining("'next tuesday' is not a date"),
      dagrunTimeout: expect.stringContaining("invalid duration '2 fortnights'"),
      'tasks.t.retryDelay': expect.stringContaining("invalid duration 'soon'"),
      'tasks.t.executionTimeout': expect.stringContaining('invalid duration -5'),
    });
    expect(built.spec.tasks[0]?.retryDelayMs).toBe(300_000);
  });

  it('points misspelt options at the right name', () => {
    const options = { id: 'typos', scheduel: '@daily', defaults: { retires: 2 } };
    const taskOptions = { tirggerRule: 'all_done' };
    const built = dag(options as DagOptions, (d) => {
      d.task('t', taskOptions as TaskOptions, () => null);
      d.group('g', { tooltip: 'x', default: {} } as never, () => {});
    });
    expect(built.issues.map(({ field, message, hint }) => ({ field, message, hint }))).toEqual([
      {
        field: 'scheduel',
        message: "unknown dag option 'scheduel'",
        hint: "did you mean 'schedule'?",
      },
      {
        field: 'defaults.retires',
        message: "unknown task setting 'retires'",
        hint: "did you mean 'retries'?",
      },
      {
        field: 'tasks.t.tirggerRule',
        message: "unknown task option 'tirggerRule'",
        hint: "did you mean 'triggerRule'?",
      },
      {
        field: 'groups.g.default',
        message: "unknown group option 'default'",
        hint: "did you mean 'defaults'?",
      },
    ]);
  });

  it('reports configs and params that are not JSON', () => {
    const built = dag(
      { id: 'not_json', params: { type: 'object', default: new Date(0) as never } },
      (d) => {
        d.operator('custom', 'op', {
          when: new Date(0) as never,
          ratio: Number.NaN,
          fn: (() => 1) as never,
        });
      },
    );
    expect(built.issues.map((i) => `${i.field}: ${i.message}`)).toEqual([
      'tasks.op.config.when: a Date is not JSON: use strings, numbers, booleans, arrays and plain objects',
      'tasks.op.config.ratio: NaN is not a JSON number',
      'tasks.op.config.fn: a function is not JSON',
      'params.default: a Date is not JSON: use strings, numbers, booleans, arrays and plain objects',
    ]);
    expect(built.spec.tasks[0]?.config).toEqual({});
  });

  it('reports a build function that returns a promise', () => {
    const built = dag({ id: 'async_build' }, (async (d: {
      task: (id: string, fn: TaskFunction) => void;
    }) => {
      d.task('t', () => null);
    }) as never);
    expect(built.issues).toEqual([
      expect.objectContaining({
        message: expect.stringContaining(
          'returned a promise; it must declare everything synchronously',
        ),
      }),
    ]);
  });

  it('accepts a build function that returns a task (it is no promise)', () => {
    const built = dag({ id: 'arrow' }, (d) => d.task('t', () => null));
    expect(built.issues).toEqual([]);
  });

  it('reports a ts task without a function and a dependency between a group and its own task', () => {
    const built = dag({ id: 'misc' }, (d) => {
      d.task('no_fn', {} as never);
      d.group('g', (g) => {
        g.task('inner', () => null).after(g);
      });
    });
    expect(built.issues.map((i) => i.message)).toEqual([
      'a ts task needs a function',
      "task 'g.inner' cannot depend on group 'g': one contains the other",
    ]);
  });

  it('throws when tasks are declared after the build function returned', () => {
    let later: (() => void) | undefined;
    dag({ id: 'late' }, (d) => {
      later = () => d.task('too_late', () => null);
    });
    expect(later).toThrow(/dag 'late': cannot declare a task after its build function returned/);
  });
});

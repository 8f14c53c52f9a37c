import { describe, expect, it } from 'vitest';
import { dag, isDag } from '../../src/authoring/dag.ts';
import type { Dag } from '../../src/authoring/types.ts';
import type { TaskSpec } from '../../src/core/dag-spec.ts';
import type { TaskContext } from '../../src/core/task-context.ts';
import { dagSpec } from '../support/specs.ts';

function task(built: Dag, taskId: string): TaskSpec {
  const found = built.spec.tasks.find((t) => t.taskId === taskId);
  if (found === undefined) throw new Error(`no task ${taskId}`);
  return found;
}

function upstreamOf(built: Dag): Record<string, string[]> {
  return Object.fromEntries(built.spec.tasks.map((t) => [t.taskId, [...t.upstream].sort()]));
}

describe('dag()', () => {
  it('builds a spec with the documented defaults', () => {
    const built = dag({ id: 'minimal' }, (d) => {
      d.task('only', () => null);
    });
    expect(built.issues).toEqual([]);
    // Where the authoring API's defaults differ from a test spec's: owner 'updraft',
    // pausedOnCreation left to the scheduler's setting (null), a ts task without config.
    expect(built.spec).toEqual(
      dagSpec({
        dagId: 'minimal',
        owner: 'updraft',
        pausedOnCreation: null,
        tasks: [{ taskId: 'only', operator: 'ts', config: {} }],
      }),
    );
  });

  it('converts durations and reads dates without an offset in the DAG time zone', () => {
    const built = dag(
      {
        id: 'timed',
        schedule: '0 2 * * *',
        timezone: 'Europe/Berlin',
        startDate: '2026-01-01',
        endDate: new Date('2026-12-31T00:00:00Z'),
        dagrunTimeout: '2h',
        defaults: { retryDelay: '30s', maxRetryDelay: '10m', executionTimeout: 1500 },
      },
      (d) => {
        d.task('t', () => null);
      },
    );
    expect(built.issues).toEqual([]);
    expect(built.spec.startDate).toBe('2025-12-31T23:00:00.000Z');
    expect(built.spec.endDate).toBe('2026-12-31T00:00:00.000Z');
    expect(built.spec.dagrunTimeoutMs).toBe(7_200_000);
    expect(task(built, 't')).toMatchObject({
      retryDelayMs: 30_000,
      maxRetryDelayMs: 600_000,
      executionTimeoutMs: 1500,
    });
  });

  it('applies defaults DAG < group < nested group < task', () => {
    const built = dag(
      { id: 'layers', defaults: { retries: 1, pool: 'dag_pool', queue: 'q1' } },
      (d) => {
        d.task('top', () => null);
        d.group('outer', { defaults: { retries: 2, pool: 'outer_pool' } }, (outer) => {
          outer.task('mid', () => null);
          outer.group('inner', { defaults: { retries: 3 } }, (inner) => {
            inner.task('deep', () => null);
            inner.task('own', { retries: 9, pool: undefined }, () => null);
          });
        });
      },
    );
    expect(built.issues).toEqual([]);
    const settings = (id: string) => {
      const { retries, pool, queue, group } = task(built, id);
      return { retries, pool, queue, group };
    };
    expect(settings('top')).toEqual({ retries: 1, pool: 'dag_pool', queue: 'q1', group: null });
    expect(settings('outer.mid')).toEqual({
      retries: 2,
      pool: 'outer_pool',
      queue: 'q1',
      group: 'outer',
    });
    expect(settings('outer.inner.deep')).toEqual({
      retries: 3,
      pool: 'outer_pool',
      queue: 'q1',
      group: 'outer.inner',
    });
    // An option set to undefined does not hide the default.
    expect(settings('outer.inner.own')).toEqual({
      retries: 9,
      pool: 'outer_pool',
      queue: 'q1',
      group: 'outer.inner',
    });
    expect(built.spec.groups).toEqual([
      { groupId: 'outer', parent: null, tooltip: null },
      { groupId: 'outer.inner', parent: 'outer', tooltip: null },
    ]);
  });

  it('records dependencies from after, before, chain, upstream options and ids', () => {
    const built = dag({ id: 'deps' }, (d) => {
      const a = d.task('a', () => null);
      const b = d.task('b', () => null);
      const c = d.task('c', () => null);
      const e = d.task('e', () => null);
      const f = d.task('f', { upstream: [a, 'e'] }, () => null);
      b.after(a);
      expect(a.before(c)).toBe(c);
      d.chain(c, [e, d.task('g', () => null)], f);
    });
    expect(built.issues).toEqual([]);
    expect(upstreamOf(built)).toEqual({
      a: [],
      b: ['a'],
      c: ['a'],
      e: ['c'],
      g: ['c'],
      f: ['a', 'e', 'g'],
    });
  });

  it('resolves dependencies on groups to their roots and leaves, nested groups included', () => {
    const built = dag({ id: 'groups' }, (d) => {
      const start = d.task('start', () => null);
      const end = d.task('end', () => null);
      const etl = d.group('etl', (g) => {
        const x = g.task('x', () => null);
        const y = g.task('y', () => null);
        const inner = g.group('inner', (i) => {
          const p = i.task('p', () => null);
          i.task('q', () => null).after(p);
        });
        x.before(inner);
        g.task('z', () => null).after(inner, y);
      });
      start.before(etl).before(end);
    });
    expect(built.issues).toEqual([]);
    // Roots of etl: x and y (inner.p waits for x; z waits for inner and y).
    // Leaves of etl: z only.
    expect(upstreamOf(built)).toEqual({
      start: [],
      'etl.x': ['start'],
      'etl.y': ['start'],
      'etl.inner.p': ['etl.x'],
      'etl.inner.q': ['etl.inner.p'],
      'etl.z': ['etl.inner.q', 'etl.y'],
      end: ['etl.z'],
    });
  });

  it('orders tasks topologically and stably, whatever the declaration order', () => {
    const built = dag({ id: 'order' }, (d) => {
      const load = d.task('load', () => null);
      const extract = d.task('extract', () => null);
      const report = d.task('report', () => null);
      const audit = d.task('audit', () => null);
      load.after(extract);
      report.after(load);
      audit.after(extract);
    });
    expect(built.spec.tasks.map((t) => t.taskId)).toEqual(['extract', 'load', 'report', 'audit']);
  });

  it('computes effective priority weights per weight rule', () => {
    const built = dag({ id: 'weights', defaults: { priorityWeight: 2 } }, (d) => {
      const a = d.task('a', () => null);
      const b = d.task('b', { upstream: [a] }, () => null);
      const c = d.task('c', { upstream: [a] }, () => null);
      d.task('sink', { upstream: [b, c], weightRule: 'upstream' }, () => null);
      d.task('alone', { priorityWeight: 7, weightRule: 'absolute', upstream: [a] }, () => null);
    });
    expect(built.issues).toEqual([]);
    const weight = (id: string) => task(built, id).priorityWeight;
    // a: own 2 + b, c, sink (2 each) + alone (7); sink counted once although two paths lead to it.
    expect(weight('a')).toBe(2 + 2 + 2 + 2 + 7);
    expect(weight('b')).toBe(2 + 2);
    expect(weight('sink')).toBe(2 + 2 + 2 + 2);
    expect(weight('alone')).toBe(7);
  });

  it('records operator configs as JSON and finds task functions by task id', async () => {
    const extract = async (ctx: TaskContext) => ({ day: ctx.ds });
    const built = dag({ id: 'ops' }, (d) => {
      d.task('extract', extract);
      d.shell('echo', { command: 'echo {{ ds }}', env: { A: '1' }, cwd: undefined });
      d.group('g', (g) => {
        g.operator('sql', 'count', { conn: 'warehouse', sql: 'select 1', limit: 5 });
      });
    });
    expect(task(built, 'echo')).toMatchObject({
      operator: 'shell',
      config: { command: 'echo {{ ds }}', env: { A: '1' } },
    });
    expect(task(built, 'g.count')).toMatchObject({
      operator: 'sql',
      config: { conn: 'warehouse', sql: 'select 1', limit: 5 },
    });
    expect(built.taskFunction('extract')).toBe(extract);
    expect(built.taskFunction('echo')).toBeUndefined();
    expect(await built.taskFunction('extract')?.({ ds: '2026-01-02' } as TaskContext)).toEqual({
      day: '2026-01-02',
    });
    expect(JSON.parse(JSON.stringify(built.spec))).toEqual(built.spec);
  });

  it('records datasets, a dataset schedule and run-time mapping (with its edge)', () => {
    const built = dag({ id: 'mapped', schedule: { datasets: ['orders'] } }, (d) => {
      const list = d.task('list', { inlets: ['orders@prod'] }, () => ['a', 'b']);
      d.task(
        'each',
        { mapOver: { upstream: list, path: 'files' }, outlets: ['parts'] },
        (ctx) => ctx.ds,
      );
      d.task('cap', { mapOver: { upstream: 'list', maxItems: 3 } }, () => null);
    });
    expect(built.issues).toEqual([]);
    expect(built.spec).toMatchObject({ schedule: null, datasetSchedule: ['orders'] });
    expect(task(built, 'list')).toMatchObject({
      inlets: ['orders@prod'],
      outlets: [],
      mapOver: null,
    });
    expect(task(built, 'each')).toMatchObject({
      upstream: ['list'],
      outlets: ['parts'],
      mapOver: { upstream: 'list', path: 'files', maxItems: 1024 },
    });
    expect(task(built, 'cap')).toMatchObject({
      upstream: ['list'],
      mapOver: { upstream: 'list', path: null, maxItems: 3 },
    });
  });

  it('records notifications and deadlines, with task defaults', () => {
    const built = dag(
      {
        id: 'alerting',
        deadline: { after: '10m' },
        notify: { onFailure: ['oncall'] },
        defaults: { notify: { onRetry: ['team'] } },
      },
      (d) => {
        d.task('t', { deadline: { after: '30s', from: 'logical_date' } }, () => null);
      },
    );
    expect(built.issues).toEqual([]);
    expect(built.spec).toMatchObject({
      deadline: { afterMs: 600_000, from: 'start' },
      notify: { onSuccess: [], onFailure: ['oncall'], onRetry: [], onDeadlineMiss: [] },
    });
    expect(task(built, 't')).toMatchObject({
      deadline: { afterMs: 30_000, from: 'logical_date' },
      notify: { onSuccess: [], onFailure: [], onRetry: ['team'], onDeadlineMiss: [] },
    });
  });

  it('locates the DAG and its tasks in the source', () => {
    const built = dag({ id: 'located' }, (d) => {
      d.task('t', () => null);
    });
    expect(built.sourceLocation()).toMatchObject({ file: expect.stringMatching(/dag\.test\.ts$/) });
    const dagLine = built.sourceLocation().line ?? 0;
    expect(built.sourceLocation('t').line).toBe(dagLine + 1);
  });
});

describe('isDag', () => {
  it('recognises a DAG by its Symbol.for brand, also from another copy of the module', () => {
    const built = dag({ id: 'x' }, () => {});
    expect(isDag(built)).toBe(true);
    const fromAnotherCopy = {
      [Symbol.for('updraft.dag')]: true,
      spec: { ...built.spec },
      taskFunction: () => undefined,
    };
    expect(isDag(fromAnotherCopy)).toBe(true);
    for (const value of [
      null,
      undefined,
      42,
      'dag',
      {},
      { spec: {}, taskFunction() {} },
      [built],
    ]) {
      expect(isDag(value)).toBe(false);
    }
  });
});

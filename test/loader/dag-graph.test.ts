import { describe, expect, it } from 'vitest';
import {
  effectivePriorityWeights,
  findCycles,
  type GraphTask,
  topologicalOrder,
} from '../../src/loader/dag-graph.ts';

const t = (taskId: string, ...upstream: string[]): GraphTask => ({ taskId, upstream });
const ids = (tasks: GraphTask[]) => tasks.map((task) => task.taskId);

describe('topologicalOrder', () => {
  it('puts upstream first and breaks ties by the given order', () => {
    const tasks = [t('d', 'b', 'c'), t('c', 'a'), t('b', 'a'), t('a'), t('e')];
    expect(ids(topologicalOrder(tasks))).toEqual(['a', 'c', 'b', 'd', 'e']);
  });

  it('gives the same order for the same graph every time', () => {
    const tasks = Array.from({ length: 50 }, (_, i) => t(`t${i}`, ...(i > 1 ? [`t${i % 7}`] : [])));
    expect(ids(topologicalOrder(tasks))).toEqual(ids(topologicalOrder([...tasks])));
  });

  it('leaves tasks on or after a cycle at the end, in the given order', () => {
    const tasks = [t('x', 'y'), t('ok'), t('y', 'x'), t('after', 'y')];
    expect(ids(topologicalOrder(tasks))).toEqual(['ok', 'x', 'y', 'after']);
  });

  it('handles long chains without deep recursion', () => {
    const tasks = Array.from({ length: 20_000 }, (_, i) =>
      t(`n${i}`, ...(i > 0 ? [`n${i - 1}`] : [])),
    );
    const order = topologicalOrder([...tasks].reverse());
    expect(order[0]?.taskId).toBe('n0');
    expect(order.at(-1)?.taskId).toBe('n19999');
    const long = [...tasks, t('n0', 'n19999')].slice(1);
    expect(findCycles(long)).toHaveLength(1);
  });
});

describe('findCycles', () => {
  it('finds one shortest cycle per tangle, in flow order from its earliest task', () => {
    const tasks = [
      t('a', 'c'),
      t('b', 'a'),
      t('c', 'b'),
      t('d', 'a', 'e'),
      t('e', 'd'),
      t('self', 'self'),
      t('fine', 'a'),
    ];
    expect(findCycles(tasks)).toEqual([['a', 'b', 'c'], ['d', 'e'], ['self']]);
  });

  it('finds nothing in a DAG', () => {
    expect(findCycles([t('a'), t('b', 'a'), t('c', 'a', 'b')])).toEqual([]);
  });
});

describe('effectivePriorityWeights', () => {
  it('adds downstream or upstream weights, each relative once', () => {
    const tasks = [
      { ...t('a'), priorityWeight: 1, weightRule: 'downstream' as const },
      { ...t('b', 'a'), priorityWeight: 10, weightRule: 'downstream' as const },
      { ...t('c', 'a'), priorityWeight: 100, weightRule: 'downstream' as const },
      { ...t('d', 'b', 'c'), priorityWeight: 1000, weightRule: 'upstream' as const },
      { ...t('e', 'd'), priorityWeight: 5, weightRule: 'absolute' as const },
    ];
    expect(Object.fromEntries(effectivePriorityWeights(tasks))).toEqual({
      a: 1 + 10 + 100 + 1000 + 5,
      b: 10 + 1000 + 5,
      c: 100 + 1000 + 5,
      d: 1000 + 1 + 10 + 100,
      e: 5,
    });
  });
});

/**
 * Graph algorithms over the tasks of one DAG, by task id: a stable topological order,
 * the cycles that prevent one, and effective priority weights. Edges point from a task to
 * the tasks listed in its `upstream`; "downstream" is the reverse. Upstream ids that name
 * no task are ignored here (the spec validator reports them).
 */

/** What the algorithms need of a task. */
export interface GraphTask {
  taskId: string;
  upstream: readonly string[];
}

/** How a task's own priority weight is combined with its relatives' (as Airflow). */
export const WEIGHT_RULES = ['downstream', 'upstream', 'absolute'] as const;
/**
 * - `downstream` (default): own weight plus the weights of all tasks downstream of it, so
 *   the head of a long chain goes first.
 * - `upstream`: own weight plus the weights of all tasks upstream of it, so runs that are
 *   further along finish first.
 * - `absolute`: own weight only.
 */
export type WeightRule = (typeof WEIGHT_RULES)[number];

/** A task with its own priority weight and weight rule. */
export interface WeightedTask extends GraphTask {
  priorityWeight: number;
  weightRule: WeightRule;
}

/** Index of every task, and the direct downstream of each (by index, deduplicated). */
function adjacency(tasks: readonly GraphTask[]): {
  upstream: number[][];
  downstream: number[][];
} {
  const index = new Map<string, number>();
  tasks.forEach((task, i) => {
    if (!index.has(task.taskId)) index.set(task.taskId, i);
  });
  const upstream = tasks.map(() => [] as number[]);
  const downstream = tasks.map(() => [] as number[]);
  tasks.forEach((task, i) => {
    for (const id of new Set(task.upstream)) {
      const from = index.get(id);
      if (from === undefined) continue;
      upstream[i]?.push(from);
      downstream[from]?.push(i);
    }
  });
  return { upstream, downstream };
}

/** A min-heap of task indexes, so the earliest declared ready task comes out first. */
class IndexHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(value: number): void {
    const items = this.items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((items[parent] ?? 0) <= value) break;
      items[i] = items[parent] ?? 0;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && (items[right] ?? 0) < (items[left] ?? 0) ? right : left;
      if ((items[child] ?? 0) >= last) break;
      items[i] = items[child] ?? 0;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

/**
 * The tasks in a stable topological order: every task after its upstream tasks, and
 * among tasks that could go next, the one given first. The same graph always gives the
 * same order. Tasks on a cycle, and everything downstream of one, keep their given order
 * at the end.
 */
export function topologicalOrder<T extends GraphTask>(tasks: readonly T[]): T[] {
  const { upstream, downstream } = adjacency(tasks);
  const waiting = upstream.map((list) => list.length);
  const ready = new IndexHeap();
  waiting.forEach((count, i) => {
    if (count === 0) ready.push(i);
  });
  const placed = new Set<number>();
  const order: T[] = [];
  for (let i = ready.pop(); i !== undefined; i = ready.pop()) {
    placed.add(i);
    const task = tasks[i];
    if (task !== undefined) order.push(task);
    for (const next of downstream[i] ?? []) {
      const left = (waiting[next] ?? 0) - 1;
      waiting[next] = left;
      if (left === 0) ready.push(next);
    }
  }
  tasks.forEach((task, i) => {
    if (!placed.has(i)) order.push(task);
  });
  return order;
}

/**
 * Every cycle that makes the graph not a DAG, one per group of tasks that reach each
 * other: the task ids in the order work would flow, starting at the earliest given task
 * of the group (`['a', 'b', 'c']` is `a -> b -> c -> a`). A task that is its own
 * upstream is a cycle of one. Ordered by their first task.
 */
export function findCycles(tasks: readonly GraphTask[]): string[][] {
  const { downstream } = adjacency(tasks);
  const cycles: string[][] = [];
  for (const component of stronglyConnected(downstream)) {
    const start = Math.min(...component);
    const members = new Set(component);
    const path = shortestCycle(start, downstream, members);
    if (path !== undefined) cycles.push(path.map((i) => tasks[i]?.taskId ?? ''));
  }
  return cycles.sort((a, b) => indexOf(tasks, a[0]) - indexOf(tasks, b[0]));
}

function indexOf(tasks: readonly GraphTask[], taskId: string | undefined): number {
  return tasks.findIndex((task) => task.taskId === taskId);
}

/** Tarjan's strongly connected components, without recursion (long chains are fine). */
function stronglyConnected(edges: readonly number[][]): number[][] {
  const index: number[] = edges.map(() => -1);
  const low: number[] = edges.map(() => 0);
  const onStack: boolean[] = edges.map(() => false);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  for (let root = 0; root < edges.length; root++) {
    if (index[root] !== -1) continue;
    const work: { node: number; next: number }[] = [{ node: root, next: 0 }];
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = true;
    while (work.length > 0) {
      const frame = work[work.length - 1];
      if (frame === undefined) break;
      const targets = edges[frame.node] ?? [];
      if (frame.next < targets.length) {
        const target = targets[frame.next++] ?? 0;
        if (index[target] === -1) {
          index[target] = low[target] = counter++;
          stack.push(target);
          onStack[target] = true;
          work.push({ node: target, next: 0 });
        } else if (onStack[target]) {
          low[frame.node] = Math.min(low[frame.node] ?? 0, index[target] ?? 0);
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) {
        low[parent.node] = Math.min(low[parent.node] ?? 0, low[frame.node] ?? 0);
      }
      if (low[frame.node] === index[frame.node]) {
        const component: number[] = [];
        for (;;) {
          const member = stack.pop();
          if (member === undefined) break;
          onStack[member] = false;
          component.push(member);
          if (member === frame.node) break;
        }
        const selfLoop = (edges[frame.node] ?? []).includes(frame.node);
        if (component.length > 1 || selfLoop) components.push(component);
      }
    }
  }
  return components;
}

/** The shortest path from `start` back to itself inside `members` (breadth first). */
function shortestCycle(
  start: number,
  edges: readonly number[][],
  members: ReadonlySet<number>,
): number[] | undefined {
  const cameFrom = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head] ?? start;
    for (const next of edges[node] ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [node];
        for (let at = cameFrom.get(node); at !== undefined; at = cameFrom.get(at)) path.push(at);
        return path.reverse();
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, node);
        queue.push(next);
      }
    }
  }
  return undefined;
}

/** Indexes reachable from `start` along `edges`, `start` excluded. */
function reachable(start: number, edges: readonly number[][]): Set<number> {
  const seen = new Set<number>();
  const todo = [...(edges[start] ?? [])];
  for (let node = todo.pop(); node !== undefined; node = todo.pop()) {
    if (node === start || seen.has(node)) continue;
    seen.add(node);
    todo.push(...(edges[node] ?? []));
  }
  return seen;
}

/**
 * Effective priority weight of every task, by task id, following each task's weight
 * rule (see `WeightRule`). Each relative counts once, however many paths lead to it.
 */
export function effectivePriorityWeights(tasks: readonly WeightedTask[]): Map<string, number> {
  const { upstream, downstream } = adjacency(tasks);
  const weights = new Map<string, number>();
  tasks.forEach((task, i) => {
    if (weights.has(task.taskId)) return;
    let weight = task.priorityWeight;
    if (task.weightRule !== 'absolute') {
      const edges = task.weightRule === 'upstream' ? upstream : downstream;
      for (const other of reachable(i, edges)) weight += tasks[other]?.priorityWeight ?? 0;
    }
    weights.set(task.taskId, weight);
  });
  return weights;
}

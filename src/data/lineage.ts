/**
 * Lineage: which tasks read and wrote which dataset versions. Edges are recorded when
 * a task's inputs are pinned (reads) and when its versions are committed (writes and
 * extra reads). The graph of a dataset walks upstream (what it was made from) and
 * downstream (what was made from it), task by task.
 */
import type { Db } from '../store/store.ts';
import { dataDb } from './schema.ts';

/** One edge: a task read or wrote a dataset (version). */
export interface LineageEdge {
  dagId: string;
  taskId: string;
  direction: 'read' | 'write';
  dataset: string;
  /** Latest version involved over all runs. */
  version: number | null;
  runs: number;
}

export interface LineageGraph {
  dataset: string;
  /** Edges reachable upstream and downstream of the dataset. */
  edges: LineageEdge[];
  /** Datasets the dataset was made from, directly or not. */
  upstream: string[];
  /** Datasets made from the dataset, directly or not. */
  downstream: string[];
}

/** Lineage of `dataset`, `depth` tasks up and down (default 10). */
export async function datasetLineage(db: Db, dataset: string, depth = 10): Promise<LineageGraph> {
  const rows = await dataDb(db)
    .selectFrom('dataset_lineage')
    .select(['dag_id', 'task_id', 'direction', 'dataset'])
    .select((eb) => [eb.fn.max('version').as('version'), eb.fn.countAll<number>().as('runs')])
    .groupBy(['dag_id', 'task_id', 'direction', 'dataset'])
    .execute();
  const edges: LineageEdge[] = rows.map((r) => ({
    dagId: r.dag_id,
    taskId: r.task_id,
    direction: r.direction,
    dataset: r.dataset,
    version: r.version,
    runs: Number(r.runs),
  }));
  const task = (e: LineageEdge) => `${e.dagId}/${e.taskId}`;
  const walk = (from: 'read' | 'write'): { datasets: Set<string>; used: Set<LineageEdge> } => {
    // upstream: tasks that wrote the dataset, then what those tasks read; downstream the reverse.
    const to = from === 'write' ? 'read' : 'write';
    const datasets = new Set<string>();
    const used = new Set<LineageEdge>();
    let frontier = new Set([dataset]);
    for (let step = 0; step < depth && frontier.size > 0; step++) {
      const tasks = new Set<string>();
      for (const e of edges) {
        if (e.direction === from && frontier.has(e.dataset)) {
          tasks.add(task(e));
          used.add(e);
        }
      }
      const next = new Set<string>();
      for (const e of edges) {
        if (e.direction === to && tasks.has(task(e))) {
          used.add(e);
          if (e.dataset !== dataset && !datasets.has(e.dataset)) {
            datasets.add(e.dataset);
            next.add(e.dataset);
          }
        }
      }
      frontier = next;
    }
    return { datasets, used };
  };
  const up = walk('write');
  const down = walk('read');
  return {
    dataset,
    edges: edges.filter((e) => up.used.has(e) || down.used.has(e)),
    upstream: [...up.datasets].sort(),
    downstream: [...down.datasets].sort(),
  };
}

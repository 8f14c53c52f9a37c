/**
 * Resource checks: what the DAGs refer to outside themselves, and whether it exists in
 * the environment the check runs in.
 *
 * - connections: a connection a task declares (`connections`), and a task config field
 *   named `connection` (as the data operators use), must name a connection defined as
 *   `UPDRAFT_CONN_<NAME>` in the environment (stored and file connections are not seen
 *   here);
 * - pools: a task's pool must be `default_pool` or one of the known pools (from the store,
 *   when one is reachable; otherwise pools are not checked);
 * - datasets: an inlet, or a dataset a DAG is scheduled on, should be written (an outlet)
 *   by some loaded DAG. Until the data layer keeps a dataset registry this is all that
 *   can be known, so these findings are warnings.
 *
 * Missing connections and pools are warnings too: the machine that validates is often
 * not the one that runs. `--strict` makes every warning fail the check.
 */

import type { DagSpec, Json } from '../../core/dag-spec.ts';
import { splitInlet } from '../../core/dataset-ref.ts';
import type { SpecIssue } from '../../core/errors.ts';
import { connectionEnvVar } from '../../operators/connections.ts';
import type { Finding } from './check-pipelines.ts';

/** A DAG to check, with a function that points a finding at its source. */
export interface ResourceCheckDag {
  spec: DagSpec;
  locate: (issue: SpecIssue) => SpecIssue;
}

/** What exists in the environment being checked. */
export interface KnownResources {
  /** Environment variables (connections). Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Pool names that exist; undefined when unknown (pools are then not checked). */
  pools?: ReadonlySet<string>;
}

/** Names of connections in a config: every string field called `connection`. */
export function connectionsIn(
  value: Json,
  found: { path: string; name: string }[] = [],
  at = 'config',
): { path: string; name: string }[] {
  if (value === null || typeof value !== 'object') return found;
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      connectionsIn(item, found, `${at}[${i}]`);
    });
    return found;
  }
  for (const [key, item] of Object.entries(value)) {
    if (key === 'connection' && typeof item === 'string')
      found.push({ path: `${at}.${key}`, name: item });
    else connectionsIn(item, found, `${at}.${key}`);
  }
  return found;
}

/** Findings about connections, pools and datasets the DAGs refer to. */
export function checkResources(
  dags: readonly ResourceCheckDag[],
  known: KnownResources = {},
): Finding[] {
  const env = known.env ?? process.env;
  const findings: Finding[] = [];
  const written = new Set(dags.flatMap(({ spec }) => spec.tasks.flatMap((t) => t.outlets ?? [])));
  const warn = (dag: ResourceCheckDag, issue: SpecIssue): void => {
    findings.push({ ...dag.locate({ dagId: dag.spec.dagId, ...issue }), severity: 'warning' });
  };
  for (const dag of dags) {
    for (const task of dag.spec.tasks) {
      const declared = (task.connections ?? []).map((name, i) => ({
        path: `connections.${i}`,
        name,
      }));
      for (const { path, name } of [...declared, ...connectionsIn(task.config)]) {
        const variable = connectionEnvVar(name);
        if (env[variable]) continue;
        warn(dag, {
          taskId: task.taskId,
          field: `tasks.${task.taskId}.${path}`,
          message: `connection '${name}' is not defined in this environment`,
          hint: `set ${variable} to its URL where the DAG runs`,
        });
      }
      if (
        known.pools !== undefined &&
        task.pool !== 'default_pool' &&
        !known.pools.has(task.pool)
      ) {
        warn(dag, {
          taskId: task.taskId,
          field: `tasks.${task.taskId}.pool`,
          message: `pool '${task.pool}' does not exist`,
          hint: `create it: updraft pools set ${task.pool} <slots>`,
        });
      }
      (task.inlets ?? []).forEach((inlet, i) => {
        const name = splitInlet(inlet).ref.split('@')[0] ?? inlet;
        if (written.has(name)) return;
        warn(dag, {
          taskId: task.taskId,
          field: `tasks.${task.taskId}.inlets.${i}`,
          message: `dataset '${name}' is not written by any loaded DAG`,
          hint: 'check the name, or add it to the outlets of the task that writes it',
        });
      });
    }
    (dag.spec.datasetSchedule ?? []).forEach((name) => {
      if (written.has(name)) return;
      warn(dag, {
        field: 'schedule',
        message: `the DAG is scheduled on dataset '${name}', which no loaded DAG writes`,
        hint: 'check the name, or add it to the outlets of the task that writes it',
      });
    });
  }
  return findings;
}

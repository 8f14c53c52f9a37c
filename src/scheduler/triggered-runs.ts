/**
 * Runs that `trigger_dag` tasks ask for (src/operators/trigger-dag-operator.ts): created
 * in the transaction that records the triggering task's success, so a run exists if and
 * only if that success does. The run id is the request's; a run with that id already
 * there (the triggering task ran again) is left as it is, so retries and re-runs trigger
 * once. A request the scheduler cannot honour — no such DAG, a DAG no longer defined,
 * params its schema refuses — throws, and the triggering attempt fails with the reason.
 */

import { didYouMean } from '../core/closest-match.ts';
import { UpdraftError } from '../core/errors.ts';
import { resolveParams } from '../core/params.ts';
import type { TriggerRunRequest } from '../operators/trigger-dag-operator.ts';
import { manualRunInterval } from '../schedule/timetable.ts';
import { createRun, type SpecLookup, type Tx } from './transitions.ts';

/** Creates the requested runs; returns the ids of the DAGs that got one. */
export async function createTriggeredRuns(
  tx: Tx,
  requests: readonly TriggerRunRequest[],
  specs: SpecLookup,
  now: Date,
): Promise<string[]> {
  const created: string[] = [];
  for (const request of requests) {
    const dag = await tx
      .selectFrom('dags')
      .select(['dag_id', 'is_active', 'version_hash', 'spec', 'fileloc'])
      .where('dag_id', '=', request.dagId)
      .executeTakeFirst();
    if (dag === undefined || !dag.is_active) {
      const known = await tx
        .selectFrom('dags')
        .select('dag_id')
        .where('is_active', '=', true)
        .execute();
      const hint = didYouMean(
        request.dagId,
        known.map((d) => d.dag_id),
      );
      throw new UpdraftError(
        'trigger_unknown_dag',
        dag === undefined
          ? `${request.triggeredBy} triggers dag '${request.dagId}', which does not exist${hint ? ` (${hint})` : ''}`
          : `${request.triggeredBy} triggers dag '${request.dagId}', which is no longer defined by ${dag.fileloc}`,
      );
    }
    let params: ReturnType<typeof resolveParams>;
    try {
      params = resolveParams(request.dagId, dag.spec.params, request.params);
    } catch (error) {
      throw new UpdraftError(
        'trigger_params_invalid',
        `${request.triggeredBy} triggers ${(error as Error).message}`,
        { cause: error },
      );
    }
    const version = await specs(tx, dag.dag_id, dag.version_hash);
    const pk = await createRun(
      tx,
      {
        version,
        runId: request.runId,
        runType: 'manual',
        planned: manualRunInterval(now),
        params,
      },
      now,
    );
    if (pk !== null) created.push(request.dagId);
  }
  return created;
}

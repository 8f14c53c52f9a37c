/**
 * The `trigger_dag` operator: creates a run of another DAG when this task succeeds (as
 * Airflow's TriggerDagRunOperator). The worker only records the request as an effect
 * (`TRIGGER_RUN_EFFECT`); the scheduler creates the run in the transaction that records
 * the task's success (src/scheduler/triggered-runs.ts), so a run is triggered if and only
 * if the task succeeded — once, whatever the retries, since its run id is derived from
 * the triggering run and task.
 *
 * To trigger only sometimes, let an upstream task decide: a `ts` task that throws
 * `SkipTask` when there is nothing to do skips the `trigger_dag` task after it.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { Json } from '../core/dag-spec.ts';
import { TaskFailure, UpdraftError } from '../core/errors.ts';
import { runIdProblem } from '../core/run-id.ts';
import type { Operator } from './operator.ts';

/** Effect kind of a triggered run (committed by the scheduler, not by hooks). */
export const TRIGGER_RUN_EFFECT = 'dag_run_trigger';

export const triggerDagConfigSchema = Type.Object(
  {
    dagId: Type.String({ minLength: 1, description: 'The DAG to run (templates allowed).' }),
    runId: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Run id of the new run (templates allowed). Default: 'triggered__<this dag>.<this task>__<this run id>', so retries and re-runs of this task trigger one run.",
      }),
    ),
    params: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description:
          "Parameters of the new run, validated against the triggered DAG's params schema (templates in string values are rendered first).",
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'Creates a run of another DAG when this task succeeds.',
  },
);

export type TriggerDagConfig = Static<typeof triggerDagConfigSchema>;

/** What the effect carries to the scheduler. */
export interface TriggerRunRequest {
  dagId: string;
  runId: string;
  params: { [key: string]: Json };
  /** The triggering task, for the log and the run's note. */
  triggeredBy: string;
}

/** Reads a `TRIGGER_RUN_EFFECT`'s data; throws when it is not one. */
export function parseTriggerRunRequest(data: Json): TriggerRunRequest {
  const value = data as Partial<TriggerRunRequest> | null;
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof value.dagId !== 'string' ||
    typeof value.runId !== 'string' ||
    typeof value.triggeredBy !== 'string' ||
    value.params === null ||
    typeof value.params !== 'object' ||
    Array.isArray(value.params)
  ) {
    throw new UpdraftError('effect_invalid', 'a dag_run_trigger effect is malformed');
  }
  return value as TriggerRunRequest;
}

export const triggerDagOperator: Operator<TriggerDagConfig> = {
  name: 'trigger_dag',
  description: 'Creates a run of another DAG when this task succeeds.',
  configSchema: triggerDagConfigSchema,
  async run(config, ctx): Promise<Json> {
    const triggeredBy = `${ctx.dagId}.${ctx.taskId}`;
    const runId = config.runId ?? `triggered__${triggeredBy}__${ctx.runId}`.slice(0, 250);
    const problem = runIdProblem(runId);
    if (problem !== null)
      throw new TaskFailure(`task '${ctx.taskId}': ${problem}`, { retry: false });
    const request: TriggerRunRequest = {
      dagId: config.dagId,
      runId,
      params: (config.params ?? {}) as { [key: string]: Json },
      triggeredBy,
    };
    ctx.addEffect({ kind: TRIGGER_RUN_EFFECT, data: request as unknown as Json });
    ctx.log.info('requesting a run', { dag: config.dagId, run: runId });
    return { dagId: config.dagId, runId };
  },
};

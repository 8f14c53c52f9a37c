/**
 * Alias moves made by pipelines: the `alias_promotion` effects of `promote` tasks,
 * committed by the data layer's `commitEffects` in the transaction that records the
 * task's success (so the alias moves if and only if that attempt is the task's
 * success; a failed or superseded attempt moves nothing).
 *
 * The move obeys the alias's promotion policy (`promotion-policy.ts`) with the role
 * `pipeline` and the actor `pipeline:<dag>/<run>/<task>`. A refusal fails the task
 * without retry (the same version would be refused again), naming the policy and what
 * to do; nothing of the attempt is committed.
 */
import { TaskFailure, UpdraftError } from '../core/errors.ts';
import type { HookTarget } from '../scheduler/attempt-hooks.ts';
import type { Db } from '../store/store.ts';
import type { AliasPromotion } from './effects.ts';
import {
  type AliasPolicy,
  aliasPolicy,
  assertMayMove,
  assertPassesGates,
  describePolicy,
  type MovingActor,
  PIPELINE_ROLE,
} from './promotion-policy.ts';
import { lockDataset, moveAlias, resolveRef } from './registry.ts';

/** The actor name of a pipeline's alias moves: `pipeline:<dag>/<run>/<task>`. */
export function pipelineActor(target: Pick<HookTarget, 'dagId' | 'runId' | 'task' | 'mapIndex'>) {
  const index = target.mapIndex >= 0 ? `[${target.mapIndex}]` : '';
  return `pipeline:${target.dagId}/${target.runId}/${target.task.taskId}${index}`;
}

/** Moves the alias if the policy lets pipelines; else throws a `TaskFailure` without retry. */
export async function commitPromotion(
  db: Db,
  target: HookTarget,
  promotion: AliasPromotion,
  now: Date,
): Promise<{ fromVersion: number | null }> {
  const { dataset, version, alias } = promotion;
  const actor: MovingActor = { name: pipelineActor(target), role: PIPELINE_ROLE };
  let policy: AliasPolicy | undefined;
  try {
    const row = await resolveRef(db, { name: dataset, version });
    await lockDataset(db, dataset);
    policy = await aliasPolicy(db, dataset, alias);
    assertMayMove(policy, actor);
    await assertPassesGates(db, policy, row);
  } catch (error) {
    if (!(error instanceof UpdraftError)) throw error;
    throw new TaskFailure(refusal(error, policy, promotion), { retry: false, cause: error });
  }
  const fromVersion = await moveAlias(
    db,
    dataset,
    alias,
    version,
    { actor: actor.name, role: PIPELINE_ROLE, reason: promotion.reason, action: 'promote' },
    now,
  );
  return { fromVersion };
}

/** The refusal message: what the policy said, and what to do about it. */
function refusal(
  error: UpdraftError,
  policy: AliasPolicy | undefined,
  { dataset, version, alias }: AliasPromotion,
): string {
  const head = `promotion of '${dataset}' v${version} to '${alias}' refused`;
  if (policy === undefined) return `${head}: ${error.message}`;
  const byHand = `promote it by hand ('updraft datasets promote ${dataset} ${version} --to ${alias}')`;
  let todo: string;
  if (error.code === 'forbidden' && policy.roles.length > 0) {
    const flags = [
      `--roles ${[...policy.roles, PIPELINE_ROLE].join(',')}`,
      ...(policy.requireApproval ? ['--require-approval'] : []),
      ...(policy.requireChecks ? [] : ['--no-require-checks']),
    ].join(' ');
    todo = `${byHand}, or let pipelines move it ('updraft datasets policy set ${dataset} ${alias} ${flags}')`;
  } else if (error.message.includes('needs an approval')) {
    todo = `approve the version, then clear this task to promote it again, or ${byHand}`;
  } else if (error.message.includes('blocking quality checks failed')) {
    todo = 'fix the data and run the pipeline again';
  } else {
    todo = 'promote to another alias';
  }
  return `${head} by ${describePolicy(policy)}: ${error.message}; ${todo}`;
}

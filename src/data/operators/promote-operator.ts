/**
 * The `promote` operator: moves an alias (`staging`, `prod`, ...) of a dataset to the
 * version pinned by one of the task's inlets — normally the version an upstream quality
 * task checked in the same run (inlets resolve to what upstream tasks settled on, see
 * `attempt-hooks.ts`). The worker only asks: it reports an `alias_promotion` effect, and
 * the move is committed with the task's success, under the alias's promotion policy
 * with the role `pipeline` (`pipeline-promotion.ts`). A refusal fails the task without
 * retry; a failed or superseded attempt moves nothing.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { Json } from '../../core/dag-spec.ts';
import { ALIAS_NAME_PATTERN } from '../../core/dataset-ref.ts';
import type { Operator } from '../../operators/operator.ts';
import { aliasPromotionEffect } from '../effects.ts';
import { chosenInput } from '../task-inputs.ts';

export const promoteConfigSchema = Type.Object(
  {
    to: Type.String({
      pattern: ALIAS_NAME_PATTERN,
      description:
        "Alias to move (e.g. 'staging'): letters, digits, '_' and '-'. Its promotion policy must let the pipeline role move it.",
    }),
    dataset: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "The inlet whose pinned version is promoted (e.g. 'orders'); default: the task's only inlet.",
      }),
    ),
    reason: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Why, recorded in the alias history (default: the DAG, run and version promoted).',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "Moves an alias to the version pinned by an inlet, committed with the task's success under the alias's promotion policy.",
  },
);

export type PromoteConfig = Static<typeof promoteConfigSchema>;

export const promoteOperator: Operator<PromoteConfig> = {
  name: 'promote',
  description:
    "Moves a dataset alias (e.g. staging) to the version pinned by an inlet, with the task's success.",
  configSchema: promoteConfigSchema,
  async run(config, ctx): Promise<Json> {
    const { ref, input } = chosenInput(ctx, config.dataset, 'promote');
    const reason =
      config.reason ??
      `promoted by ${ctx.dagId} run ${ctx.runId} (inlet '${ref}' pinned v${input.version})`;
    ctx.addEffect(
      aliasPromotionEffect({
        dataset: input.dataset,
        version: input.version,
        alias: config.to,
        reason,
      }),
    );
    ctx.log.info(`promoting '${input.dataset}' v${input.version} to '${config.to}'`, {
      dataset: input.dataset,
      version: input.version,
      alias: config.to,
    });
    return { dataset: input.dataset, version: input.version, alias: config.to };
  },
};

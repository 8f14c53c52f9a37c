/**
 * Who may move which alias, and what a version must have before it may: the promotion
 * gates. A policy row in `dataset_alias_policies` for the dataset (or `*`, for every
 * dataset) and alias overrides the defaults:
 *
 * | alias      | roles that may move it     | blocking checks must pass | approval |
 * |------------|----------------------------|---------------------------|----------|
 * | `latest`   | nobody (moved by commits only)                        | – | – |
 * | `prod`     | op, admin                  | yes                       | no       |
 * | any other  | user, op, admin, pipeline  | yes                       | no       |
 *
 * `pipeline` is the role of a `promote` task (`operators/promote-operator.ts`): the move
 * is committed with the task's success, by actor `pipeline:<dag>/<run>/<task>`.
 *
 * "Blocking checks must pass" refuses a version whose blocking quality checks failed
 * (`blocking_checks_passed = false`); a version with no checks recorded passes. An
 * approval is a record by a user with the op or admin role for that version and alias.
 */
import { UpdraftError } from '../core/errors.ts';
import type { Db } from '../store/store.ts';
import { LATEST, type VersionRow } from './registry.ts';
import { dataDb } from './schema.ts';

/** Roles, least to most privileged (as the auth layer defines them). */
export const ROLES = ['viewer', 'user', 'op', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The role of a pipeline's `promote` task. */
export const PIPELINE_ROLE = 'pipeline';

/** Roles a policy can name: the users' roles and `pipeline`. */
export const POLICY_ROLES = [...ROLES, PIPELINE_ROLE] as const;
export type PolicyRole = (typeof POLICY_ROLES)[number];

/** Roles that may approve a promotion. */
export const APPROVER_ROLES: readonly Role[] = ['op', 'admin'];

/** Whoever asks: a user name and role. */
export interface Actor {
  name: string;
  role: Role;
}

/** Whoever moves an alias: a user, or a pipeline (`pipeline:<dag>/<run>/<task>`). */
export interface MovingActor {
  name: string;
  role: PolicyRole;
}

export interface AliasPolicy {
  dataset: string;
  alias: string;
  roles: PolicyRole[];
  requireChecks: boolean;
  requireApproval: boolean;
  /** `default` for the built-in rules, else `dataset` or `*` (where the row came from). */
  source: 'default' | 'dataset' | '*';
}

/** The policy that applies to `alias` of `dataset`. */
export async function aliasPolicy(db: Db, dataset: string, alias: string): Promise<AliasPolicy> {
  const rows = await dataDb(db)
    .selectFrom('dataset_alias_policies')
    .selectAll()
    .where('alias', '=', alias)
    .where('dataset', 'in', [dataset, '*'])
    .execute();
  const row = rows.find((r) => r.dataset === dataset) ?? rows.find((r) => r.dataset === '*');
  if (row !== undefined) {
    return {
      dataset,
      alias,
      roles: row.roles as PolicyRole[],
      requireChecks: row.require_checks,
      requireApproval: row.require_approval,
      source: row.dataset === '*' ? '*' : 'dataset',
    };
  }
  return {
    dataset,
    alias,
    roles:
      alias === LATEST
        ? []
        : alias === 'prod'
          ? ['op', 'admin']
          : ['user', 'op', 'admin', PIPELINE_ROLE],
    requireChecks: true,
    requireApproval: false,
    source: 'default',
  };
}

/** Sets the policy of `alias` for `dataset` (or `*`). */
export async function setAliasPolicy(db: Db, policy: Omit<AliasPolicy, 'source'>): Promise<void> {
  const values = {
    roles: JSON.stringify(policy.roles),
    require_checks: policy.requireChecks,
    require_approval: policy.requireApproval,
  };
  await dataDb(db)
    .insertInto('dataset_alias_policies')
    .values({ dataset: policy.dataset, alias: policy.alias, ...values })
    .onConflict((oc) => oc.columns(['dataset', 'alias']).doUpdateSet(values))
    .execute();
}

/** Throws `forbidden` unless `actor`'s role may move the policy's alias. */
export function assertMayMove(policy: AliasPolicy, actor: MovingActor): void {
  if (policy.roles.includes(actor.role)) return;
  throw new UpdraftError(
    'forbidden',
    policy.roles.length === 0
      ? `alias '${policy.alias}' of '${policy.dataset}' moves only when a version is committed; promote to another alias`
      : `'${actor.name}' (${actor.role}) may not move alias '${policy.alias}' of '${policy.dataset}': it needs the ${policy.roles.join(' or ')} role`,
  );
}

/**
 * Throws `promotion_refused` unless `version` passes the policy's gates: its blocking
 * checks did not fail (when required) and it was approved for the alias (when required).
 */
export async function assertPassesGates(
  db: Db,
  policy: AliasPolicy,
  version: Pick<VersionRow, 'version' | 'blocking_checks_passed'>,
): Promise<void> {
  const { dataset, alias } = policy;
  const what = `cannot promote '${dataset}' v${version.version} to '${alias}'`;
  if (policy.requireChecks && version.blocking_checks_passed === false) {
    throw new UpdraftError('promotion_refused', `${what}: its blocking quality checks failed`);
  }
  if (!policy.requireApproval) return;
  const approval = await dataDb(db)
    .selectFrom('dataset_approvals')
    .select('approved_by')
    .where('dataset', '=', dataset)
    .where('version', '=', version.version)
    .where('alias', '=', alias)
    .executeTakeFirst();
  if (approval === undefined) {
    throw new UpdraftError(
      'promotion_refused',
      `${what}: it needs an approval by a user with the ${APPROVER_ROLES.join(' or ')} role ('updraft datasets approve ${dataset} ${version.version} --for ${alias}')`,
    );
  }
}

/** Describes where a policy comes from, for messages: "the default policy of orders@prod". */
export function describePolicy(policy: AliasPolicy): string {
  const where =
    policy.source === 'default' ? 'the default' : policy.source === '*' ? "the '*'" : 'the';
  return `${where} policy of ${policy.dataset}@${policy.alias}`;
}

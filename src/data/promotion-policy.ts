/**
 * Who may move which alias, and what a version must have before it may: the promotion
 * gates. A policy row in `dataset_alias_policies` for the dataset (or `*`, for every
 * dataset) and alias overrides the defaults:
 *
 * | alias      | roles that may move it | blocking checks must pass | approval |
 * |------------|------------------------|---------------------------|----------|
 * | `latest`   | nobody (moved by commits only)                    | – | – |
 * | `prod`     | op, admin              | yes                       | no       |
 * | any other  | user, op, admin        | yes                       | no       |
 *
 * "Blocking checks must pass" refuses a version whose blocking quality checks failed
 * (`blocking_checks_passed = false`); a version with no checks recorded passes. An
 * approval is a record by a user with the op or admin role for that version and alias.
 */
import type { Db } from '../store/store.ts';
import { LATEST } from './registry.ts';
import { dataDb } from './schema.ts';

/** Roles, least to most privileged (as the auth layer defines them). */
export const ROLES = ['viewer', 'user', 'op', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Roles that may approve a promotion. */
export const APPROVER_ROLES: readonly Role[] = ['op', 'admin'];

/** Whoever asks: a user name and role. */
export interface Actor {
  name: string;
  role: Role;
}

export interface AliasPolicy {
  dataset: string;
  alias: string;
  roles: Role[];
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
      roles: row.roles as Role[],
      requireChecks: row.require_checks,
      requireApproval: row.require_approval,
      source: row.dataset === '*' ? '*' : 'dataset',
    };
  }
  return {
    dataset,
    alias,
    roles: alias === LATEST ? [] : alias === 'prod' ? ['op', 'admin'] : ['user', 'op', 'admin'],
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

/**
 * Roles and what they may do. Every API route declares the capability it needs; the
 * server checks it before anything else runs (see `src/server/auth-hook.ts`).
 *
 *   capability   what it covers                                         lowest role
 *   self         own session, password and API tokens                   viewer
 *   read         DAGs, runs, task instances, logs, pools, import errors viewer
 *   operate      pause, trigger, clear, mark, backfill                  user
 *   configure    pools, connections (without secrets), audit log        op
 *   administer   users                                                  admin
 *
 * Roles are ordered: each has every capability of the roles below it.
 */
export const ROLES = ['viewer', 'user', 'op', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const CAPABILITIES = ['self', 'read', 'operate', 'configure', 'administer'] as const;
export type Capability = (typeof CAPABILITIES)[number];

const LOWEST_ROLE: Record<Capability, Role> = {
  self: 'viewer',
  read: 'viewer',
  operate: 'user',
  configure: 'op',
  administer: 'admin',
};

/** Whether `role` has `capability`. */
export function roleAllows(role: Role, capability: Capability): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(LOWEST_ROLE[capability]);
}

/** The capabilities of a role, lowest first (shown to the UI so it can hide what is refused). */
export function capabilitiesOf(role: Role): Capability[] {
  return CAPABILITIES.filter((c) => roleAllows(role, c));
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

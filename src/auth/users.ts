/**
 * Local users: a name, a role and a scrypt password hash. Changing a password or a
 * role ends the user's sessions (API tokens stay: they are revoked one by one).
 */

import type { Clock } from '../core/clock.ts';
import { ConflictError, NotFoundError, UpdraftError } from '../core/errors.ts';
import { checkPasswordPolicy, hashPassword, verifyPassword } from './passwords.ts';
import { isRole, ROLES, type Role } from './roles.ts';
import type { AuthDb } from './schema.ts';

/** A user as shown by the API (never the hash). */
export interface UserInfo {
  username: string;
  role: Role;
  createdAt: string;
  passwordChangedAt: string;
}

const USERNAME = /^[A-Za-z0-9_.@-]{1,64}$/;

/** A hash to verify against when the user does not exist, so both cases take as long. */
let decoyHash: Promise<string> | undefined;

export class UserDirectory {
  constructor(
    private readonly db: AuthDb,
    private readonly clock: Clock,
  ) {}

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async list(): Promise<UserInfo[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('username').execute();
    return rows.map(toUserInfo);
  }

  async get(username: string): Promise<UserInfo> {
    return toUserInfo(await this.row(username));
  }

  /** Creates a user; throws `ConflictError` when the name is taken. */
  async create(username: string, role: string, password: string): Promise<UserInfo> {
    checkUsername(username);
    const checkedRole = checkRole(role);
    checkPasswordPolicy(password);
    const now = new Date(this.clock.now());
    const row = await this.db
      .insertInto('users')
      .values({
        username,
        role: checkedRole,
        password_hash: await hashPassword(password),
        created_at: now,
        password_changed_at: now,
      })
      .onConflict((oc) => oc.column('username').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new ConflictError(`user '${username}' already exists`);
    return toUserInfo(row);
  }

  /** Sets a new password and ends every session of the user. */
  async setPassword(username: string, password: string): Promise<UserInfo> {
    checkPasswordPolicy(password);
    const user = await this.row(username);
    const hash = await hashPassword(password);
    await this.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('users')
        .set({ password_hash: hash, password_changed_at: new Date(this.clock.now()) })
        .where('id', '=', user.id)
        .execute();
      await tx.deleteFrom('sessions').where('user_id', '=', user.id).execute();
    });
    return this.get(username);
  }

  /** Changes a role and ends the user's sessions; refuses to demote the last admin. */
  async setRole(username: string, role: string): Promise<UserInfo> {
    const checkedRole = checkRole(role);
    const user = await this.row(username);
    if (user.role === 'admin' && checkedRole !== 'admin') await this.refuseLastAdmin(username);
    await this.db.transaction().execute(async (tx) => {
      await tx.updateTable('users').set({ role: checkedRole }).where('id', '=', user.id).execute();
      await tx.deleteFrom('sessions').where('user_id', '=', user.id).execute();
    });
    return this.get(username);
  }

  /** Deletes a user with their sessions and tokens; refuses to delete the last admin. */
  async delete(username: string): Promise<void> {
    const user = await this.row(username);
    if (user.role === 'admin') await this.refuseLastAdmin(username);
    await this.db.deleteFrom('users').where('id', '=', user.id).execute();
  }

  /** The user when the password is right, else null (same time either way). */
  async authenticate(
    username: string,
    password: string,
  ): Promise<(UserInfo & { id: number }) | null> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst();
    if (!row) {
      decoyHash ??= hashPassword('decoy password for unknown users');
      await verifyPassword(password, await decoyHash);
      return null;
    }
    return (await verifyPassword(password, row.password_hash))
      ? { ...toUserInfo(row), id: row.id }
      : null;
  }

  private async row(username: string) {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`user '${username}' not found`);
    return row;
  }

  private async refuseLastAdmin(username: string): Promise<void> {
    const admins = await this.db
      .selectFrom('users')
      .select('username')
      .where('role', '=', 'admin')
      .execute();
    if (admins.length <= 1 && admins[0]?.username === username) {
      throw new ConflictError(`'${username}' is the last admin; make another user admin first`);
    }
  }
}

function checkUsername(username: string): void {
  if (!USERNAME.test(username)) {
    throw new UpdraftError(
      'username_invalid',
      `user name '${username}' is invalid: use 1-64 letters, digits and _ . @ -`,
    );
  }
}

function checkRole(role: string): Role {
  if (!isRole(role)) {
    throw new UpdraftError('role_invalid', `role '${role}' is unknown: use ${ROLES.join(', ')}`);
  }
  return role;
}

function toUserInfo(row: {
  username: string;
  role: Role;
  created_at: Date;
  password_changed_at: Date;
}): UserInfo {
  return {
    username: row.username,
    role: row.role,
    createdAt: new Date(row.created_at).toISOString(),
    passwordChangedAt: new Date(row.password_changed_at).toISOString(),
  };
}

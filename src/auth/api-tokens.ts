/**
 * Bearer API tokens for automation: `Authorization: Bearer updr_<secret>`. A token acts
 * as its user, with the user's current role. The store keeps its SHA-256 and a short
 * prefix; the token itself is shown once, when created.
 */

import type { Clock } from '../core/clock.ts';
import { ConflictError, NotFoundError, UpdraftError } from '../core/errors.ts';
import type { AuthDb } from './schema.ts';
import { randomSecret, secretHash } from './secrets.ts';
import type { Principal } from './sessions.ts';

export const TOKEN_PREFIX = 'updr_';
/** last_used_at is written at most once a minute per token. */
const TOUCH_MS = 60 * 1000;

/** A token as listed (never the secret). */
export interface ApiTokenInfo {
  id: number;
  name: string;
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

const NAME = /^[A-Za-z0-9_. -]{1,64}$/;

export class ApiTokens {
  constructor(
    private readonly db: AuthDb,
    private readonly clock: Clock,
  ) {}

  /** Creates a token for the user; `token` is returned once and never again. */
  async create(
    userId: number,
    name: string,
    expiresInDays?: number,
  ): Promise<ApiTokenInfo & { token: string }> {
    if (!NAME.test(name)) {
      throw new UpdraftError(
        'token_name_invalid',
        `token name '${name}' is invalid: use 1-64 letters, digits, spaces and _ . -`,
      );
    }
    const token = `${TOKEN_PREFIX}${randomSecret()}`;
    const now = new Date(this.clock.now());
    const row = await this.db
      .insertInto('api_tokens')
      .values({
        user_id: userId,
        name,
        token_hash: secretHash(token),
        prefix: token.slice(0, TOKEN_PREFIX.length + 6),
        created_at: now,
        expires_at:
          expiresInDays === undefined ? null : new Date(now.getTime() + expiresInDays * 86_400_000),
      })
      .onConflict((oc) => oc.columns(['user_id', 'name']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new ConflictError(`you already have a token named '${name}'`);
    return { ...toInfo(row), token };
  }

  async list(userId: number): Promise<ApiTokenInfo[]> {
    const rows = await this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('id')
      .execute();
    return rows.map(toInfo);
  }

  /** Revokes one of the user's tokens. */
  async revoke(userId: number, id: number): Promise<void> {
    const done = await this.db
      .deleteFrom('api_tokens')
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (Number(done.numDeletedRows) === 0) throw new NotFoundError(`you have no token ${id}`);
  }

  /** The token's user, or null when it is unknown or expired. */
  async resolve(token: string): Promise<Principal | null> {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const row = await this.db
      .selectFrom('api_tokens')
      .innerJoin('users', 'users.id', 'api_tokens.user_id')
      .select([
        'api_tokens.id',
        'api_tokens.user_id',
        'api_tokens.expires_at',
        'api_tokens.last_used_at',
        'users.username',
        'users.role',
      ])
      .where('api_tokens.token_hash', '=', secretHash(token))
      .executeTakeFirst();
    if (!row) return null;
    const now = this.clock.now();
    if (row.expires_at !== null && now >= new Date(row.expires_at).getTime()) return null;
    if (row.last_used_at === null || now - new Date(row.last_used_at).getTime() >= TOUCH_MS) {
      await this.db
        .updateTable('api_tokens')
        .set({ last_used_at: new Date(now) })
        .where('id', '=', row.id)
        .execute();
    }
    return { userId: row.user_id, username: row.username, role: row.role, via: 'token' };
  }
}

function toInfo(row: {
  id: number;
  name: string;
  prefix: string;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
}): ApiTokenInfo {
  const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString());
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: new Date(row.created_at).toISOString(),
    expiresAt: iso(row.expires_at),
    lastUsedAt: iso(row.last_used_at),
  };
}

/**
 * Browser sessions. The cookie holds a random 256-bit id; the store keeps only its
 * SHA-256, with a CSRF token the page must echo in `X-CSRF-Token` on every change.
 * A session ends after `IDLE_MS` without a request or `ABSOLUTE_MS` after login, at
 * logout, and when the user's password or role changes.
 */
import type { Clock } from '../core/clock.ts';
import type { Role } from './roles.ts';
import type { AuthDb } from './schema.ts';
import { randomSecret, secretHash } from './secrets.ts';

/** A session ends after 12 hours without a request. */
export const IDLE_MS = 12 * 60 * 60 * 1000;
/** ... and 7 days after login at the latest. */
export const ABSOLUTE_MS = 7 * 24 * 60 * 60 * 1000;
/** last_seen_at is written at most once a minute per session. */
const TOUCH_MS = 60 * 1000;

/** The user behind a request. */
export interface Principal {
  userId: number;
  username: string;
  role: Role;
  via: 'session' | 'token';
  /** The session's CSRF token (sessions only). */
  csrfToken?: string;
}

export class SessionStore {
  constructor(
    private readonly db: AuthDb,
    private readonly clock: Clock,
  ) {}

  /** Starts a session; returns the cookie value (shown once) and the CSRF token. */
  async create(
    userId: number,
    client: { ip: string | null; userAgent: string | null },
  ): Promise<{ token: string; csrfToken: string; expiresAt: Date }> {
    const token = randomSecret();
    const csrfToken = randomSecret();
    const now = new Date(this.clock.now());
    const expiresAt = new Date(now.getTime() + ABSOLUTE_MS);
    // Ended sessions of everyone are swept here, so the table does not grow with logins.
    await this.db
      .deleteFrom('sessions')
      .where((eb) =>
        eb.or([
          eb('expires_at', '<=', now),
          eb('last_seen_at', '<=', new Date(now.getTime() - IDLE_MS)),
        ]),
      )
      .execute();
    await this.db
      .insertInto('sessions')
      .values({
        id_hash: secretHash(token),
        user_id: userId,
        csrf_token: csrfToken,
        created_at: now,
        last_seen_at: now,
        expires_at: expiresAt,
        ip: client.ip,
        user_agent: client.userAgent?.slice(0, 300) ?? null,
      })
      .execute();
    return { token, csrfToken, expiresAt };
  }

  /** The session's user, or null when the id is unknown, idle too long or expired. */
  async resolve(token: string): Promise<Principal | null> {
    const idHash = secretHash(token);
    const row = await this.db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select([
        'sessions.user_id',
        'sessions.csrf_token',
        'sessions.last_seen_at',
        'sessions.expires_at',
        'users.username',
        'users.role',
      ])
      .where('sessions.id_hash', '=', idHash)
      .executeTakeFirst();
    if (!row) return null;
    const now = this.clock.now();
    const lastSeen = new Date(row.last_seen_at).getTime();
    if (now >= new Date(row.expires_at).getTime() || now - lastSeen >= IDLE_MS) {
      await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
      return null;
    }
    if (now - lastSeen >= TOUCH_MS) {
      await this.db
        .updateTable('sessions')
        .set({ last_seen_at: new Date(now) })
        .where('id_hash', '=', idHash)
        .execute();
    }
    return {
      userId: row.user_id,
      username: row.username,
      role: row.role,
      via: 'session',
      csrfToken: row.csrf_token,
    };
  }

  /** Ends one session (logout). */
  async destroy(token: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', secretHash(token)).execute();
  }
}

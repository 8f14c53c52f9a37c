/**
 * Tables of users, sessions, API tokens and the audit log (migration
 * `0004-auth-audit`), and the Kysely view of the store that includes them.
 */
import type { ColumnType, Generated, Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import type { Role } from './roles.ts';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface UsersTable {
  id: Generated<number>;
  username: string;
  role: Role;
  /** `scrypt$N$r$p$salt$key` (see `passwords.ts`). */
  password_hash: string;
  created_at: Timestamp;
  password_changed_at: Timestamp;
}

export interface SessionsTable {
  /** SHA-256 of the session cookie's value; the value itself is never stored. */
  id_hash: string;
  user_id: number;
  csrf_token: string;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
  ip: string | null;
  user_agent: string | null;
}

export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  /** SHA-256 of the token; the token is shown once, when created. */
  token_hash: string;
  /** First characters of the token, to recognise it in listings. */
  prefix: string;
  created_at: Timestamp;
  expires_at: Timestamp | null;
  last_used_at: Timestamp | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: Timestamp;
  username: string | null;
  via: 'session' | 'token' | 'anonymous' | 'system' | 'cli';
  action: string;
  target: string | null;
  details: ColumnType<Record<string, unknown>, string, string>;
  ip: string | null;
  user_agent: string | null;
  /** `ok`, or why it was refused or failed (`denied`, `invalid`, `error`, ...). */
  outcome: string;
}

export type AuthTables = {
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  audit_log: AuditLogTable;
};

export type AuthDb = Kysely<Database & AuthTables>;

/** The store's Kysely instance, typed with the auth tables. */
export function authDb(store: Store): AuthDb {
  return store.db.withTables<AuthTables>();
}

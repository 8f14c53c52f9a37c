/**
 * Authentication, users and the audit log of one store, put together for the server
 * and the `updraft users` command.
 */
import type { Clock } from '../core/clock.ts';
import type { Store } from '../store/store.ts';
import { ApiTokens } from './api-tokens.ts';
import { AuditLog } from './audit-log.ts';
import { authDb } from './schema.ts';
import { SessionStore } from './sessions.ts';
import { UserDirectory } from './users.ts';

export interface Auth {
  users: UserDirectory;
  sessions: SessionStore;
  tokens: ApiTokens;
  audit: AuditLog;
}

export function createAuth(store: Store, clock: Clock): Auth {
  const db = authDb(store);
  return {
    users: new UserDirectory(db, clock),
    sessions: new SessionStore(db, clock),
    tokens: new ApiTokens(db, clock),
    audit: new AuditLog(db, clock),
  };
}

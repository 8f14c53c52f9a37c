/**
 * The local actor: the operating-system user running this process, with the admin role.
 * Used where only the store's owner can be the caller — a CLI command on the store
 * itself, or a call through the owner-only control socket — since that user can read
 * and write the store's files anyway.
 */
import os from 'node:os';
import type { Actor } from '../data/promotion-policy.ts';

/** The OS user name, or `uid <n>` when the user has no entry in the user database. */
export function localUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? 'unknown'}`;
  }
}

/** The local user as an admin actor (alias moves, connections, replays). */
export function localActor(): Actor {
  return { name: localUserName(), role: 'admin' };
}

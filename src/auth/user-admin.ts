/**
 * User administration from the command line (`updraft users ...`), offered through
 * `Operations` so it works over the control socket of a running standalone too. Each
 * change is written to the audit log as made by the local CLI (`via: cli`), with the
 * operating-system user who ran it.
 */
import os from 'node:os';
import type { Clock } from '../core/clock.ts';
import type { Store } from '../store/store.ts';
import { type Auth, createAuth } from './auth.ts';
import type { UserInfo } from './users.ts';

export class UserAdmin {
  private readonly auth: Auth;

  constructor(store: Store, clock: Clock) {
    this.auth = createAuth(store, clock);
  }

  list(): Promise<UserInfo[]> {
    return this.auth.users.list();
  }

  async create(username: string, role: string, password: string): Promise<UserInfo> {
    const user = await this.auth.users.create(username, role, password);
    await this.audit('user.create', username, { role });
    return user;
  }

  async update(username: string, change: { role?: string; password?: string }): Promise<UserInfo> {
    if (change.password !== undefined) await this.auth.users.setPassword(username, change.password);
    if (change.role !== undefined) await this.auth.users.setRole(username, change.role);
    await this.audit('user.update', username, {
      ...(change.role === undefined ? {} : { role: change.role }),
      ...(change.password === undefined ? {} : { password: 'changed' }),
    });
    return this.auth.users.get(username);
  }

  async delete(username: string): Promise<void> {
    await this.auth.users.delete(username);
    await this.audit('user.delete', username, {});
  }

  private audit(action: string, target: string, details: Record<string, unknown>) {
    return this.auth.audit.record({
      username: null,
      via: 'cli',
      action,
      target,
      details: { ...details, osUser: osUser() },
      ip: null,
      userAgent: null,
      outcome: 'ok',
    });
  }
}

function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

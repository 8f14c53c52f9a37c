/**
 * Users: the first admin (random password, printed once, stored under the home folder,
 * never a default) and `updraft users` (through the real CLI, audited as the CLI).
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuth } from '../../src/auth/auth.ts';
import { ADMIN_PASSWORD_FILE, ensureInitialAdmin } from '../../src/auth/initial-admin.ts';
import { systemClock } from '../../src/core/clock.ts';
import { openPGliteStore } from '../../src/store/store.ts';
import { createWorkspace, runCli, type Workspace } from '../cli/helpers.ts';
import { STORE_BACKENDS, type TestStore } from '../support/stores.ts';

for (const backend of STORE_BACKENDS) {
  describe(`first admin on ${backend.name}`, () => {
    let t: TestStore | undefined;
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    it('creates admin with a random password once, stores it owner-only, and never again', async () => {
      t = await backend.open();
      const auth = createAuth(t.store, systemClock);
      const first = await ensureInitialAdmin(auth, t.home);
      if (!first.created) throw new Error('expected the first admin to be created');
      expect(first.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
      const file = path.join(t.home, ADMIN_PASSWORD_FILE);
      expect(readFileSync(file, 'utf8')).toContain(`password: ${first.password}`);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(await auth.users.authenticate('admin', first.password)).toMatchObject({
        role: 'admin',
      });
      expect(await auth.users.authenticate('admin', 'admin')).toBeNull();
      const second = await ensureInitialAdmin(auth, t.home);
      expect(second).toEqual({ created: false, file });
      expect(await auth.users.count()).toBe(1);
      const audit = await auth.audit.list();
      expect(audit.map((a) => [a.action, a.via, a.target])).toEqual([
        ['user.create', 'system', 'admin'],
      ]);
    });

    it('refuses short passwords, unknown roles, bad names, duplicates, and removing the last admin', async () => {
      t = await backend.open();
      const { users } = createAuth(t.store, systemClock);
      await expect(users.create('ann', 'admin', 'short')).rejects.toThrow(/at least 10 characters/);
      await expect(users.create('ann', 'root', 'long enough pw')).rejects.toThrow(
        /role 'root' is unknown: use viewer, user, op, admin/,
      );
      await expect(users.create('a b', 'user', 'long enough pw')).rejects.toThrow(
        /user name 'a b' is invalid/,
      );
      await users.create('ann', 'admin', 'long enough pw');
      await expect(users.create('ann', 'user', 'long enough pw')).rejects.toThrow(/already exists/);
      await expect(users.setRole('ann', 'viewer')).rejects.toThrow(/last admin/);
      await expect(users.delete('ann')).rejects.toThrow(/last admin/);
    });
  });
}

describe('updraft users (CLI)', () => {
  let ws: Workspace | undefined;
  afterEach(() => ws?.remove());

  it('creates a user with a generated password, changes the role, deletes; audited as the CLI', async () => {
    ws = createWorkspace();
    const created = await runCli(['users', 'create', 'bob', 'op', '--json', ...ws.args]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const bob = JSON.parse(created.stdout) as { username: string; role: string; password: string };
    expect(bob).toMatchObject({ username: 'bob', role: 'op' });

    const role = await runCli(['users', 'role', 'bob', 'viewer', ...ws.args]);
    expect(role.stdout).toContain('bob is now viewer');
    const bad = await runCli(['users', 'role', 'bob', 'root', ...ws.args]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("'root'");

    const store = await openPGliteStore(path.join(ws.home, 'db'));
    try {
      const auth = createAuth(store, systemClock);
      expect(await auth.users.authenticate('bob', bob.password)).toMatchObject({ role: 'viewer' });
      const audit = await auth.audit.list();
      expect(audit.map((a) => [a.action, a.via, a.target])).toEqual([
        ['user.update', 'cli', 'bob'],
        ['user.create', 'cli', 'bob'],
      ]);
    } finally {
      await store.close();
    }
    const list = await runCli(['users', 'list', ...ws.args]);
    expect(list.stdout).toMatch(/bob\s+viewer/);
    const deleted = await runCli(['users', 'delete', 'bob', ...ws.args]);
    expect(deleted.stdout).toContain('deleted bob');
    const missing = await runCli(['users', 'delete', 'bob', ...ws.args]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("user 'bob' not found");
    // Each command opens the embedded store itself (no server runs): slow on a busy machine.
  }, 240_000);
});

/**
 * The first admin of a new installation. There is no default password: when the store
 * has no user at all, `updraft standalone` creates `admin` with a random password,
 * prints it once, and writes it to `<home>/admin-password.txt` (mode 0600) so it can be
 * read again. Changing that password makes the file stale; delete it then.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Auth } from './auth.ts';
import { randomPassword } from './passwords.ts';

export const INITIAL_ADMIN = 'admin';
export const ADMIN_PASSWORD_FILE = 'admin-password.txt';

export type InitialAdmin =
  /** Created now: the password is shown this once. */
  | { created: true; username: string; password: string; file: string }
  /** Users exist; `file` is where the first password was written, if it is still there. */
  | { created: false; file: string | null };

/** Creates the first admin when there is no user; never touches existing users. */
export async function ensureInitialAdmin(auth: Auth, home: string): Promise<InitialAdmin> {
  const file = path.join(home, ADMIN_PASSWORD_FILE);
  if ((await auth.users.count()) > 0) {
    return { created: false, file: fs.existsSync(file) ? file : null };
  }
  const password = randomPassword();
  await auth.users.create(INITIAL_ADMIN, 'admin', password);
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(
    file,
    `user: ${INITIAL_ADMIN}\npassword: ${password}\n` +
      '# Written once by updraft standalone. Change the password in the web UI (user menu)\n' +
      '# or with `updraft users password admin`, then delete this file.\n',
    { mode: 0o600 },
  );
  await auth.audit.record({
    username: null,
    via: 'system',
    action: 'user.create',
    target: INITIAL_ADMIN,
    details: { role: 'admin', reason: 'first start: no user existed' },
    ip: null,
    userAgent: null,
    outcome: 'ok',
  });
  return { created: true, username: INITIAL_ADMIN, password, file };
}

/**
 * Finding a notifier by connection name, on both stores: a stored (encrypted) connection
 * wins over the connections file, which wins over `UPDRAFT_CONN_<NAME>`; a missing or
 * malformed one is an error saying where to define it, without the URL.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { putConnection } from '../../src/data/connection-store.ts';
import { SecretBox } from '../../src/data/secret-box.ts';
import { NotifierDirectory } from '../../src/notify/notifier-directory.ts';
import { maskSecrets } from '../../src/observability/logger.ts';
import { STORE_BACKENDS, type TestStore } from '../support/stores.ts';

const KEY = { UPDRAFT_SECRET_KEY: 'a-test-key-of-enough-length' };

for (const backend of STORE_BACKENDS) {
  describe(`notifier directory on ${backend.name}`, () => {
    let t: TestStore | undefined;
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    it('looks names up in the store, then the connections file, then the environment', async () => {
      t = await backend.open();
      writeFileSync(
        path.join(t.home, 'connections.yaml'),
        'oncall: slack+https://hooks.example.com/from-file\nteam: smtp://mail.example.com:25?from=u@example.com&to=t@example.com\n',
      );
      await putConnection(t.store.db, SecretBox.fromEnv(KEY), {
        name: 'oncall',
        url: 'webhook+https://:stored-secret@hooks.example.com/stored',
      });
      const env = {
        ...KEY,
        UPDRAFT_CONN_ONCALL: 'slack+https://hooks.example.com/from-env',
        UPDRAFT_CONN_TEAM: 'slack+https://hooks.example.com/team-env',
        UPDRAFT_CONN_ENV_ONLY: 'slack+https://hooks.example.com/env-only',
        UPDRAFT_CONN_BROKEN: 'smtp://mail.example.com:25?to=t@example.com',
      };
      const directory = new NotifierDirectory({ db: t.store.db, home: t.home, env, uiUrl: null });
      expect((await directory.get('oncall')).type).toBe('webhook');
      // Its secret is masked in component logs from now on.
      expect(maskSecrets('signing with stored-secret')).toBe('signing with ***');
      expect((await directory.get('team')).type).toBe('email');
      expect((await directory.get('env_only')).type).toBe('slack');
      await expect(directory.get('nobody')).rejects.toThrow(
        /notifier connection 'nobody' is not defined: store it as a connection, add it to .*connections\.yaml, or set UPDRAFT_CONN_NOBODY/,
      );
      await expect(directory.get('broken')).rejects.toThrow(
        "notifier connection 'broken': add the sender as ?from=address",
      );
      directory.close();
    });
  });
}

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConnectionsFile } from '../../src/data/connection-store.ts';
import { SecretBox } from '../../src/data/secret-box.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import {
  type DataHarness,
  openDataHarness,
  openSourceDatabase,
  type SourceDatabase,
  TEST_SECRET_KEY,
} from './support.ts';

const KEY_2 = 'second-key-abcdefghijklmnop';

describe('the secret box (AES-256-GCM)', () => {
  it('seals and opens, with a fresh IV each time, and never shows the plaintext', () => {
    const box = SecretBox.fromEnv({ UPDRAFT_SECRET_KEY: TEST_SECRET_KEY });
    const a = box.seal('postgres://u:hunter2@db/x');
    const b = box.seal('postgres://u:hunter2@db/x');
    expect(a.sealed).not.toBe(b.sealed);
    expect(a.sealed).not.toContain('hunter2');
    expect(box.open(a.sealed, 'c')).toBe('postgres://u:hunter2@db/x');
  });

  it('opens values sealed with a previous key; refuses unknown keys and tampering without leaking', () => {
    const old = SecretBox.fromEnv({ UPDRAFT_SECRET_KEY: TEST_SECRET_KEY }).seal('https://token@x');
    const rotated = SecretBox.fromEnv({
      UPDRAFT_SECRET_KEY: KEY_2,
      UPDRAFT_SECRET_KEY_PREVIOUS: TEST_SECRET_KEY,
    });
    expect(rotated.open(old.sealed, 'c')).toBe('https://token@x');
    const onlyNew = SecretBox.fromEnv({ UPDRAFT_SECRET_KEY: KEY_2 });
    expect(() => onlyNew.open(old.sealed, "connection 'c'")).toThrow(
      `connection 'c' was encrypted with key ${old.keyId}, which is neither UPDRAFT_SECRET_KEY nor in UPDRAFT_SECRET_KEY_PREVIOUS`,
    );
    const parts = old.sealed.split('.');
    parts[4] = `A${(parts[4] ?? '').slice(1)}`;
    expect(() => rotated.open(parts.join('.'), "connection 'c'")).toThrow('does not decrypt');
    expect(() => SecretBox.fromEnv({}).seal('x')).toThrow(
      'storing a connection needs an encryption key: set UPDRAFT_SECRET_KEY',
    );
    expect(() => SecretBox.fromEnv({ UPDRAFT_SECRET_KEY: 'short' })).toThrow(
      'shorter than 16 characters',
    );
  });
});

describe('the connections file', () => {
  it('reads names to URLs and names the line of a bad entry, never its URL', async () => {
    const dir = (await import('node:os')).tmpdir();
    const file = path.join(dir, `conn-${process.pid}.yaml`);
    writeFileSync(
      file,
      'warehouse: postgres://u:p@db/x\napi:\n  url: https://api.example.com\n  description: the API\n',
    );
    expect([...readConnectionsFile(file)]).toEqual([
      ['warehouse', { url: 'postgres://u:p@db/x', description: null }],
      ['api', { url: 'https://api.example.com', description: 'the API' }],
    ]);
    writeFileSync(file, 'ok: https://x\nbad: ftp://u:secretpw@host\n');
    expect(() => readConnectionsFile(file)).toThrow(
      `${file}:2: connection 'bad': unknown scheme 'ftp://'`,
    );
    writeFileSync(file, 'ok: https://x\nnested: [1, 2]\n');
    expect(() => readConnectionsFile(file)).toThrow(
      `${file}:2: connection 'nested' must be a URL string or { url, description }`,
    );
    let message = '';
    try {
      writeFileSync(file, 'bad: u:secretpw@host\n');
      readConnectionsFile(file);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('is not a URL');
    expect(message).not.toContain('secretpw');
  });
});

for (const backend of STORE_BACKENDS) {
  describe(`stored connections on ${backend.name}`, () => {
    let h: DataHarness;
    let source: SourceDatabase;
    const op = { name: 'olga', role: 'op' as const };
    beforeAll(async () => {
      h = await openDataHarness(backend);
      source = await openSourceDatabase();
      await source.client.query('create table t as select generate_series(1, 5) as id');
    });
    afterAll(async () => {
      await source?.close();
      await h?.close();
    });

    it('stores encrypted, lists redacted, and hands the URL to the worker through prepareAttempt', async () => {
      await h.ops.putConnection(
        {
          name: 'src',
          url: source.url.replace('root@', 'root:pw-not-needed@'),
          description: 'source db',
        },
        op,
      );
      await h.ops.putConnection(
        { name: 'alerts', url: 'slack+https://hooks.slack.com/services/T0/B0/s3cr3tT0ken' },
        op,
      );
      writeFileSync(
        path.join(h.home, 'connections.yaml'),
        'src: postgres://file@nowhere/x\napi: https://user:filepw@api.example.com/v1?key=abc\n',
      );
      const rows = await h.store.db
        .selectFrom('connections' as never)
        .selectAll()
        .execute();
      expect(JSON.stringify(rows)).not.toContain('pw-not-needed');
      const listed = await h.ops.listConnections();
      expect(listed.map((c) => `${c.name} ${c.type} ${c.source} ${c.url}`)).toEqual([
        'alerts slack store slack+https://hooks.slack.com/***',
        'api http file https://user:***@api.example.com/v1?key=***',
        `src postgres store ${source.url.replace('root@', 'root:***@')}`,
      ]);

      // No UPDRAFT_CONN_SRC in the environment: the stored URL reaches the worker.
      expect(process.env.UPDRAFT_CONN_SRC).toBeUndefined();
      const run = { runPk: await h.createRun('c', 'r1'), dagId: 'c', runId: 'r1' };
      const { outcome } = await h.runTask(run, {
        taskId: 'x',
        operator: 'extract',
        config: { connection: 'src', table: 't', dataset: 't' },
      });
      expect(outcome.error?.message).toBeUndefined();
      expect((await h.ops.showVersion('t')).rows).toBe(5);
      const log = (await import('node:fs')).readdirSync(path.join(h.home, 'logs'));
      for (const file of log) {
        expect(
          (await import('node:fs')).readFileSync(path.join(h.home, 'logs', file), 'utf8'),
        ).not.toContain('pw-not-needed');
      }
    });

    it('re-encrypts with a new key (rotation) and refuses changes from users without the role', async () => {
      const rotated = SecretBox.fromEnv({
        UPDRAFT_SECRET_KEY: KEY_2,
        UPDRAFT_SECRET_KEY_PREVIOUS: TEST_SECRET_KEY,
      });
      const { StoreDatasetOperations } = await import('../../src/data/dataset-operations.ts');
      const ops = new StoreDatasetOperations({
        store: h.store,
        storage: h.storage,
        secrets: () => rotated,
        connectionsFile: path.join(h.home, 'none.yaml'),
      });
      await expect(ops.rotateConnectionKey(op)).rejects.toThrow(
        'rotating the connection key needs the admin role',
      );
      expect(await ops.rotateConnectionKey({ name: 'ada', role: 'admin' })).toEqual({
        reencrypted: 2,
      });
      const onlyNew = new StoreDatasetOperations({
        store: h.store,
        storage: h.storage,
        secrets: () => SecretBox.fromEnv({ UPDRAFT_SECRET_KEY: KEY_2 }),
        connectionsFile: path.join(h.home, 'none.yaml'),
      });
      expect((await onlyNew.listConnections()).map((c) => c.url)).toEqual([
        'slack+https://hooks.slack.com/***',
        source.url.replace('root@', 'root:***@'),
      ]);
      await expect(
        ops.putConnection({ name: 'x', url: 'https://x' }, { name: 'uma', role: 'user' }),
      ).rejects.toThrow('storing a connection needs the op or admin role');
      await expect(ops.putConnection({ name: 'x', url: 'mysql://u:pw@x/y' }, op)).rejects.toThrow(
        "connection 'x': unknown scheme 'mysql://'",
      );
      await expect(ops.putConnection({ name: '../x', url: 'https://x' }, op)).rejects.toThrow(
        "'../x' is not a valid connection name",
      );
      await expect(ops.deleteConnection('nope', op)).rejects.toThrow("no stored connection 'nope'");
      await ops.deleteConnection('alerts', op);
      expect((await ops.listConnections()).map((c) => c.name)).toEqual(['src']);
    });
  });
}

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

/** Tasks that declare their connections (`connections`), as users write them. */
const DECLARING_PIPELINE = `
import { dag } from 'updraft';

export default dag({ id: 'conn' }, (d) => {
  d.task('use', { connections: ['warehouse', 'api', 'from_env'] }, async (ctx) => {
    const warehouse = ctx.connection('warehouse');
    ctx.log.info(\`connecting to \${warehouse.url}\`);
    return {
      warehouse: [warehouse.host, warehouse.login, warehouse.schema],
      api: ctx.connection('api').host,
      fromEnv: ctx.connection('from_env').host,
    };
  });
  d.task('undeclared', async (ctx) => ctx.connection('api').host);
  d.task('bad', { connections: ['no spaces', 'ok', 'ok'] }, async () => null);
});
`;

const YAML_PIPELINE = `dags:
  conn_yaml:
    tasks:
      dump:
        operator: shell
        connections: [warehouse]
        config: { command: 'echo "$UPDRAFT_CONN_WAREHOUSE"', returnOutput: last_line }
      bad:
        operator: shell
        connections: [warehouse, 'not/allowed']
        config: { command: 'true' }
`;

describe('declared connections in pipeline files', () => {
  it('reach the spec from TypeScript and YAML; bad names are named with file, line and field', async () => {
    const { mkdtempSync } = await import('node:fs');
    const os = await import('node:os');
    const { loadPipelines } = await import('../../src/loader/load-pipelines.ts');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'updraft-conn-'));
    writeFileSync(path.join(dir, 'conn.ts'), DECLARING_PIPELINE);
    writeFileSync(path.join(dir, 'conn.yaml'), YAML_PIPELINE);
    const files = await loadPipelines(dir, path.join(dir, '.home'));
    const ts = files.find((f) => f.fileloc.endsWith('conn.ts'));
    const yaml = files.find((f) => f.fileloc.endsWith('conn.yaml'));
    const issues = [...(ts?.issues ?? []), ...(yaml?.issues ?? [])].map(
      (i) => `${path.basename(i.file ?? '')}:${i.line} ${i.field}: ${i.message}`,
    );
    expect(issues).toEqual([
      expect.stringMatching(
        /^conn\.ts:15 tasks\.bad\.connections\.0: 'no spaces' is not a valid connection name: use letters, digits/,
      ),
      "conn.ts:15 tasks.bad.connections.2: connection 'ok' is listed twice",
      expect.stringMatching(
        /^conn\.yaml:10 dags\.conn_yaml\.tasks\.bad\.connections\.1: 'not\/allowed' is not a valid connection name/,
      ),
    ]);

    // Without the bad tasks, the files load with the declared connections in their specs.
    writeFileSync(path.join(dir, 'conn.ts'), DECLARING_PIPELINE.replace(/.*'bad'.*\n/, ''));
    writeFileSync(
      path.join(dir, 'conn.yaml'),
      YAML_PIPELINE.slice(0, YAML_PIPELINE.indexOf('      bad:')),
    );
    const good = await loadPipelines(dir, path.join(dir, '.home'));
    expect(good.flatMap((f) => f.issues)).toEqual([]);
    expect(
      good.flatMap((f) =>
        f.dags.flatMap((d) => d.spec.tasks.map((t) => [t.taskId, t.connections])),
      ),
    ).toEqual([
      ['use', ['warehouse', 'api', 'from_env']],
      ['undeclared', []],
      ['dump', ['warehouse']],
    ]);
    const { rmSync } = await import('node:fs');
    rmSync(dir, { recursive: true, force: true });
  });
});

for (const backend of STORE_BACKENDS) {
  describe(`connections declared by tasks on ${backend.name}`, () => {
    let h: DataHarness;
    const op = { name: 'olga', role: 'op' as const };
    beforeAll(async () => {
      h = await openDataHarness(backend, { pipeline: DECLARING_PIPELINE });
      // The same name stored, in the file and in the environment: stored wins, then file.
      await h.ops.putConnection(
        { name: 'warehouse', url: 'postgres://etl:stored-pw-123@stored-host:5432/dw' },
        op,
      );
      writeFileSync(
        path.join(h.home, 'connections.yaml'),
        'warehouse: postgres://etl:file-pw-123@file-host/dw\napi: https://svc:file-token-123@api.example.com/v1\n',
      );
      process.env.UPDRAFT_CONN_WAREHOUSE = 'postgres://etl:env-pw-123@env-host/dw';
      process.env.UPDRAFT_CONN_FROM_ENV = 'https://env.example.com';
    });
    afterAll(async () => {
      delete process.env.UPDRAFT_CONN_WAREHOUSE;
      delete process.env.UPDRAFT_CONN_FROM_ENV;
      await h?.close();
    });

    const logsOf = async () => {
      const fs = await import('node:fs');
      const dir = path.join(h.home, 'logs');
      return fs
        .readdirSync(dir)
        .map((file) => fs.readFileSync(path.join(dir, file), 'utf8'))
        .join('\n');
    };

    it('resolves stored, then file, then environment connections for a ts task, masked in its log', async () => {
      const run = { runPk: await h.createRun('conn', 'r1'), dagId: 'conn', runId: 'r1' };
      const { outcome } = await h.runTask(run, {
        taskId: 'use',
        operator: 'ts',
        config: {},
        connections: ['warehouse', 'api', 'from_env'],
      });
      expect(outcome.error?.message).toBeUndefined();
      expect(outcome.result).toEqual({
        warehouse: ['stored-host', 'etl', 'dw'],
        api: 'api.example.com',
        fromEnv: 'env.example.com',
      });
      const log = await logsOf();
      expect(log).toContain('connecting to postgres://etl:***@stored-host:5432/dw');
      expect(log).not.toContain('stored-pw-123');
    });

    it('gives a shell task its declared connections as UPDRAFT_CONN_<NAME>, masked in its log', async () => {
      const run = { runPk: await h.createRun('conn', 'r2'), dagId: 'conn', runId: 'r2' };
      const { outcome } = await h.runTask(run, {
        taskId: 'dump',
        operator: 'shell',
        config: {
          command: 'echo "$UPDRAFT_CONN_WAREHOUSE"; echo "$UPDRAFT_CONN_WAREHOUSE" | cut -d@ -f2',
          returnOutput: 'last_line',
        },
        connections: ['warehouse'],
      });
      expect(outcome.error?.message).toBeUndefined();
      expect(outcome.result).toBe('stored-host:5432/dw');
      const log = await logsOf();
      expect(log).toContain('postgres://etl:***@stored-host:5432/dw');
      expect(log).not.toContain('stored-pw-123');
    });

    it('does not hand over connections a task does not declare, and says how to', async () => {
      const run = { runPk: await h.createRun('conn', 'r3'), dagId: 'conn', runId: 'r3' };
      const { outcome } = await h.runTask(run, {
        taskId: 'undeclared',
        operator: 'ts',
        config: {},
      });
      expect(outcome.outcome).toBe('failed');
      expect(outcome.error?.message).toBe(
        "connection 'api' is not defined: store it (updraft connections add api), add it to the connections file, or set UPDRAFT_CONN_API; a stored or file connection reaches task 'undeclared' only when the task lists it in its connections option (connections: ['api'])",
      );
      expect(await logsOf()).not.toContain('file-token-123');
    });

    it('fails the attempt when a declared stored connection cannot be decrypted, without its URL', async () => {
      const { createDataHooks } = await import('../../src/data/attempt-hooks.ts');
      const hooks = createDataHooks({
        home: h.home,
        storage: h.storage,
        secrets: SecretBox.fromEnv({ UPDRAFT_SECRET_KEY: KEY_2 }),
      });
      const run = { runPk: await h.createRun('conn', 'r4'), dagId: 'conn', runId: 'r4' };
      const { taskSpec } = await import('../support/specs.ts');
      const task = taskSpec({
        taskId: 'use',
        operator: 'ts',
        config: {},
        connections: ['warehouse'],
      });
      expect(hooks.needsPreparation(task)).toBe(true);
      const error = await h.store
        .transaction((tx) => hooks.prepareAttempt(tx, { ...run, task, mapIndex: -1, tryNumber: 1 }))
        .catch((e: unknown) => e as Error);
      expect((error as Error).message).toMatch(
        /^connection 'warehouse' was encrypted with key \w+, which is neither UPDRAFT_SECRET_KEY nor in UPDRAFT_SECRET_KEY_PREVIOUS/,
      );
      expect((error as Error).message).not.toContain('stored-pw-123');
    });
  });
}

/**
 * The store backends every integration suite runs against (Kysely's habit: the same
 * tests for each real backend). Each call gives a fresh, migrated, isolated store:
 * - pglite: a copy of the migrated template folder made by global-setup;
 * - postgres: a new database on the server (UPDRAFT_TEST_DATABASE_URL, default
 *   postgres://root@127.0.0.1:5432/postgres), dropped on close.
 * Set UPDRAFT_TEST_SKIP_POSTGRES=1 to run without a PostgreSQL server.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { openPGliteStore, openPostgresStore, type Store } from '../../src/store/store.ts';

export interface TestStore {
  store: Store;
  /** A scratch home folder (logs, cache, the embedded store) removed on close. */
  home: string;
  /** The PostgreSQL URL of the test database (undefined for PGlite, which lives in `home/db`). */
  databaseUrl: string | undefined;
  /** Closes this handle on the store (idempotent), e.g. so a runtime can open it itself. */
  releaseStore(): Promise<void>;
  close(): Promise<void>;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => {
    done ??= fn();
    return done;
  };
}

export interface StoreBackend {
  name: 'pglite' | 'postgres';
  open(): Promise<TestStore>;
}

const ADMIN_URL =
  process.env.UPDRAFT_TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';

async function openPGlite(): Promise<TestStore> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'updraft-test-'));
  cpSync(inject('pgliteTemplate'), path.join(home, 'db'), { recursive: true });
  const store = await openPGliteStore(path.join(home, 'db'));
  const releaseStore = once(() => store.close());
  return {
    store,
    home,
    databaseUrl: undefined,
    releaseStore,
    async close() {
      await releaseStore();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

async function openPostgres(): Promise<TestStore> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${ADMIN_URL} (${(err as Error).message}). Start it ` +
        `(pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start), point ` +
        'UPDRAFT_TEST_DATABASE_URL at another server, or set UPDRAFT_TEST_SKIP_POSTGRES=1.',
    );
  }
  const name = `updraft_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const store = await openPostgresStore(url.toString());
  await store.migrate();
  const home = mkdtempSync(path.join(os.tmpdir(), 'updraft-test-'));
  const releaseStore = once(() => store.close());
  return {
    store,
    home,
    databaseUrl: url.toString(),
    releaseStore,
    async close() {
      await releaseStore();
      rmSync(home, { recursive: true, force: true });
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export const STORE_BACKENDS: StoreBackend[] = [
  { name: 'pglite', open: openPGlite },
  ...(process.env.UPDRAFT_TEST_SKIP_POSTGRES === '1'
    ? []
    : [{ name: 'postgres' as const, open: openPostgres }]),
];

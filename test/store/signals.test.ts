/**
 * Store change signals reach subscribers: in-process on PGlite, over LISTEN/NOTIFY on
 * PostgreSQL — also after the LISTEN connection was killed.
 */
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoreSignal } from '../../src/store/store.ts';
import { openPostgresStore } from '../../src/store/store.ts';
import { STORE_BACKENDS, type TestStore } from '../support/stores.ts';

for (const backend of STORE_BACKENDS) {
  describe(`store signals on ${backend.name}`, () => {
    let t: TestStore;
    beforeEach(async () => {
      t = await backend.open();
    });
    afterEach(async () => {
      await t.close();
    });

    it('delivers a signal to a subscriber', async () => {
      let deliver: (signal: StoreSignal) => void = () => {};
      const received = new Promise<StoreSignal>((resolve) => {
        deliver = resolve;
      });
      // Subscribing resolves once the subscriber listens (LISTEN is set up on PostgreSQL).
      await t.store.subscribe((signal) => deliver(signal));
      await t.store.notify({ kind: 'run_created', dagId: 'd' });
      expect(await received).toEqual({ kind: 'run_created', dagId: 'd' });
    });

    if (backend.name === 'postgres') {
      it('re-opens a killed LISTEN connection and keeps delivering signals from other processes', async () => {
        const signals: StoreSignal[] = [];
        await t.store.subscribe((s) => signals.push(s));
        const admin = new pg.Client({ connectionString: t.databaseUrl });
        await admin.connect();
        try {
          const killed = await admin.query(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query like 'listen %'",
          );
          expect(killed.rowCount).toBe(1);
          const other = await openPostgresStore(t.databaseUrl!);
          try {
            // Keep notifying until the re-opened connection hears one (it waits 0.5 s first).
            const deadline = Date.now() + 10_000;
            while (!signals.some((s) => s.kind === 'dag_changed') && Date.now() < deadline) {
              await other.notify({ kind: 'dag_changed', dagId: 'x' });
              await new Promise((r) => setTimeout(r, 100));
            }
          } finally {
            await other.close();
          }
          expect(signals).toContainEqual({ kind: 'dag_changed', dagId: 'x' });
        } finally {
          await admin.end();
        }
      });
    }
  });
}

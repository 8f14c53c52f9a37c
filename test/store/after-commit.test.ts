/**
 * `afterCommit`: registered work runs once the transaction committed, on the store's own
 * handle, in order; never when the transaction (or the savepoint it was registered in)
 * rolls back; at once outside a transaction. A failing action does not undo the commit.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { afterCommit } from '../../src/store/after-commit.ts';
import { withSavepoint } from '../../src/store/savepoint.ts';
import { STORE_BACKENDS, type TestStore } from '../support/stores.ts';

for (const backend of STORE_BACKENDS) {
  describe(`afterCommit on ${backend.name}`, () => {
    let t: TestStore;
    beforeAll(async () => {
      t = await backend.open();
      await sql`create table after_commit_probe (n integer not null)`.execute(t.store.db);
    });
    afterAll(async () => {
      await t?.close();
    });
    const count = async () =>
      Number(
        (
          await sql<{ n: number }>`select count(*)::int as n from after_commit_probe`.execute(
            t.store.db,
          )
        ).rows[0]?.n,
      );

    it('runs after the commit, in order, seeing the committed rows', async () => {
      const seen: string[] = [];
      await t.store.transaction(async (tx) => {
        await sql`insert into after_commit_probe values (1)`.execute(tx);
        await afterCommit(tx, async (db) => {
          seen.push(
            `first saw ${(await sql<{ n: number }>`select count(*)::int as n from after_commit_probe`.execute(db)).rows[0]?.n}`,
          );
        });
        await afterCommit(tx, async () => {
          seen.push('second');
        });
        seen.push('body done');
      });
      expect(seen).toEqual(['body done', 'first saw 1', 'second']);
    });

    it('drops the work of a rolled-back transaction and of a rolled-back savepoint', async () => {
      const seen: string[] = [];
      await expect(
        t.store.transaction(async (tx) => {
          await afterCommit(tx, async () => {
            seen.push('rolled back');
          });
          throw new Error('no');
        }),
      ).rejects.toThrow('no');
      await t.store.transaction(async (tx) => {
        await afterCommit(tx, async () => {
          seen.push('kept');
        });
        await withSavepoint(tx, async () => {
          await afterCommit(tx, async () => {
            seen.push('inside the savepoint');
          });
          throw new Error('undo the savepoint');
        }).catch(() => undefined);
        await withSavepoint(tx, () =>
          afterCommit(tx, async () => {
            seen.push('inside a released savepoint');
          }),
        );
      });
      expect(seen).toEqual(['kept', 'inside a released savepoint']);
    });

    it('runs at once outside a transaction, and a failing action keeps the commit', async () => {
      const seen: string[] = [];
      await afterCommit(t.store.db, async () => {
        seen.push('at once');
      });
      expect(seen).toEqual(['at once']);
      const before = await count();
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(w.message);
      process.on('warning', onWarning);
      try {
        await t.store.transaction(async (tx) => {
          await sql`insert into after_commit_probe values (2)`.execute(tx);
          await afterCommit(tx, async () => {
            throw new Error('disk full');
          });
          await afterCommit(tx, async () => {
            seen.push('still runs');
          });
        });
        await new Promise((r) => setImmediate(r));
      } finally {
        process.off('warning', onWarning);
      }
      expect(await count()).toBe(before + 1);
      expect(seen).toEqual(['at once', 'still runs']);
      expect(warnings).toEqual(['an action after a committed transaction failed: disk full']);
    });

    it('refuses a transaction the store did not open', async () => {
      await expect(
        t.store.db.transaction().execute((tx) => afterCommit(tx, async () => undefined)),
      ).rejects.toThrow('afterCommit needs a transaction opened by Store.transaction');
    });
  });
}

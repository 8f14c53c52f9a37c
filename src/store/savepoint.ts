/**
 * Savepoints: run part of a transaction so that its failure undoes only that part. In
 * PostgreSQL a failed statement aborts the whole transaction; inside a savepoint, the
 * transaction can roll back to it and go on.
 */
import { sql } from 'kysely';
import { dropPendingAfter, pendingMark } from './after-commit.ts';
import type { Db } from './store.ts';

let counter = 0;

/**
 * Runs `fn` inside a savepoint of the caller's transaction `tx`. When `fn` throws, the
 * savepoint is rolled back (the transaction stays usable), the `afterCommit` actions
 * registered inside it are dropped, and the error is rethrown.
 */
export async function withSavepoint<T>(tx: Db, fn: () => Promise<T>): Promise<T> {
  const name = sql.id(`updraft_sp_${++counter}`);
  const mark = pendingMark(tx);
  await sql`savepoint ${name}`.execute(tx);
  try {
    const value = await fn();
    await sql`release savepoint ${name}`.execute(tx);
    return value;
  } catch (error) {
    await sql`rollback to savepoint ${name}`.execute(tx);
    dropPendingAfter(tx, mark);
    throw error;
  }
}

/**
 * Work that may happen only once a transaction has committed: a file that mirrors a row
 * (a dataset version's `manifest.json`), anything another process must not see for a
 * change that could still roll back.
 *
 * `afterCommit(tx, fn)` registers `fn` on the transaction `tx` (opened by
 * `Store.transaction`). The store runs the registered functions in order after COMMIT
 * succeeded, on the store's own handle (`tx` is finished by then), and drops them when
 * the transaction rolls back; a savepoint that rolls back (`withSavepoint`) drops those
 * registered inside it. Outside a transaction `fn` runs at once: the statements before
 * it committed already.
 *
 * A function that throws is reported (`process.emitWarning`) and does not undo the
 * commit; a crash between COMMIT and the function loses it, so what it writes must be
 * derivable from the committed rows (and rewritten from them the next time).
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.ts';

/** A store handle or transaction (`Db` of `store.ts`, named here to keep imports one-way). */
type Db = Kysely<Database> | Transaction<Database>;

/** A function run after the commit, given the store's handle (not the finished transaction). */
export type CommittedAction = (db: Kysely<Database>) => Promise<void>;

const pending = new WeakMap<object, CommittedAction[]>();

/** Runs `fn` after `db`'s transaction commits (at once outside a transaction); see the module doc. */
export async function afterCommit(db: Db, fn: CommittedAction): Promise<void> {
  if (!db.isTransaction) {
    await fn(db as Kysely<Database>);
    return;
  }
  const actions = pending.get(db);
  if (actions === undefined) {
    throw new Error('afterCommit needs a transaction opened by Store.transaction');
  }
  actions.push(fn);
}

/** Tracks `tx` for `afterCommit` (called by `Store.transaction`); returns its action list. */
export function trackTransaction(tx: Db): CommittedAction[] {
  const actions: CommittedAction[] = [];
  pending.set(tx, actions);
  return actions;
}

/** How many actions `tx` has registered so far (a savepoint's starting mark). */
export function pendingMark(tx: Db): number {
  return pending.get(tx)?.length ?? 0;
}

/** Drops the actions registered on `tx` after `mark` (its savepoint rolled back). */
export function dropPendingAfter(tx: Db, mark: number): void {
  pending.get(tx)?.splice(mark);
}

/** Runs committed actions in order; a failing one is reported and the rest still run. */
export async function runCommittedActions(
  actions: readonly CommittedAction[],
  db: Kysely<Database>,
): Promise<void> {
  for (const action of actions) {
    try {
      await action(db);
    } catch (error) {
      process.emitWarning(
        `an action after a committed transaction failed: ${(error as Error).message ?? String(error)}`,
        { type: 'UpdraftAfterCommitWarning' },
      );
    }
  }
}

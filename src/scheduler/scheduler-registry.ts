/**
 * Several schedulers on one PostgreSQL store (high availability). Each scheduler
 * registers itself in `schedulers` and beats a heartbeat on every housekeeping pass;
 * each attempt records the scheduler that queued it.
 *
 * - Decisions that must respect global limits (creating runs, starting runs within
 *   `maxActiveRuns`, queueing attempts within pools, `maxActiveTasks` and parallelism)
 *   are made under row locks on the `pools` table, taken in a fixed order, as Airflow's
 *   scheduler locks its pool rows: two schedulers never decide at the same time, and
 *   each counts what is queued and running from the store, not from its own memory.
 * - Recording executor reports needs no lock: every update is fenced by try number.
 * - A scheduler whose heartbeat is older than the lease is dead: the first live
 *   scheduler to see it (`FOR UPDATE SKIP LOCKED` on its row) resets its open attempts
 *   to `scheduled` (without using up a try) and removes it. A late report from one of
 *   those attempts is fenced out by the try number.
 */
import { sql } from 'kysely';
import type { Db } from '../store/store.ts';
import type { ActiveCounts, Tx } from './transitions.ts';

/** Registers scheduler `id` (or refreshes its heartbeat). */
export async function beat(
  db: Db,
  self: { id: string; hostname: string; pid: number },
  now: Date,
): Promise<void> {
  await db
    .insertInto('schedulers')
    .values({ ...self, started_at: now, heartbeat_at: now })
    .onConflict((oc) => oc.column('id').doUpdateSet({ heartbeat_at: now }))
    .execute();
}

/** Removes scheduler `id` (on a clean stop). */
export async function unregister(db: Db, id: string): Promise<void> {
  await db.deleteFrom('schedulers').where('id', '=', id).execute();
}

/**
 * Removes the schedulers whose heartbeat is older than `leaseMs` (other than `selfId`),
 * skipping rows another scheduler is already reaping. Returns their ids.
 */
export async function reapDeadSchedulers(
  tx: Tx,
  selfId: string,
  leaseMs: number,
  now: Date,
): Promise<string[]> {
  const dead = await tx
    .selectFrom('schedulers')
    .select('id')
    .where('id', '!=', selfId)
    .where('heartbeat_at', '<', new Date(now.getTime() - leaseMs))
    .forUpdate()
    .skipLocked()
    .execute();
  const ids = dead.map((d) => d.id);
  if (ids.length) await tx.deleteFrom('schedulers').where('id', 'in', ids).execute();
  return ids;
}

/** Ids of the registered schedulers. */
export async function registeredSchedulers(db: Db): Promise<string[]> {
  return (await db.selectFrom('schedulers').select('id').execute()).map((r) => r.id);
}

/** Serialises the decision phase between schedulers: row locks on every pool, in name order. */
export async function lockDecisions(tx: Tx): Promise<void> {
  await sql`select name from pools order by name for update`.execute(tx);
}

/** Queued and running attempts, counted from the store (under `lockDecisions`). */
export async function storeActiveCounts(tx: Tx): Promise<ActiveCounts> {
  const rows = await tx
    .selectFrom('task_instances')
    .select([
      'dag_id',
      'pool',
      sql<number>`sum(pool_slots)::int`.as('slots'),
      sql<number>`count(*)::int`.as('n'),
    ])
    .where('state', 'in', ['queued', 'running'])
    .groupBy(['dag_id', 'pool'])
    .execute();
  const byPool = new Map<string, number>();
  const byDag = new Map<string, number>();
  let total = 0;
  for (const r of rows) {
    byPool.set(r.pool, (byPool.get(r.pool) ?? 0) + r.slots);
    byDag.set(r.dag_id, (byDag.get(r.dag_id) ?? 0) + r.n);
    total += r.n;
  }
  return { total, byPool, byDag };
}

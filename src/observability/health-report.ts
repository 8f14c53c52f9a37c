/**
 * The health of an Updraft installation, as `updraft health` prints it: does the store
 * answer, is a scheduler beating (this process's own, or any registered in the store's
 * `schedulers` table by a scheduler process), and the executor's slots. Unhealthy when
 * the store fails or no scheduler has beaten within `staleAfterMs`.
 */
import os from 'node:os';
import { sql } from 'kysely';
import type { Store } from '../store/store.ts';

/** A heartbeat older than this means the scheduler is not working (default). */
export const HEARTBEAT_STALE_MS = 60_000;

/** What the process itself knows (a scheduler process), read when the report is made. */
export interface LiveHealth {
  scheduler: { running: boolean; lastTickAt: number | null };
  executor: { name: string; slots: number; inFlight: number } | null;
}

export interface HealthReport {
  status: 'ok' | 'unhealthy';
  checkedAt: string;
  store: { kind: 'pglite' | 'postgres'; ok: boolean; error: string | null };
  /** Schedulers seen: this process's, and those registered in the store. */
  schedulers: {
    id: string;
    hostname: string | null;
    pid: number | null;
    lastHeartbeat: string | null;
    /** Milliseconds since the last heartbeat, null when never. */
    heartbeatAgeMs: number | null;
  }[];
  executor: { name: string; slots: number; inFlight: number } | null;
  /** Why the status is `unhealthy` (empty when ok). */
  problems: string[];
}

/** Checks the store and the schedulers' heartbeats. */
export async function checkHealth(
  store: Store,
  live: LiveHealth | null,
  now: number,
  staleAfterMs = HEARTBEAT_STALE_MS,
): Promise<HealthReport> {
  const problems: string[] = [];
  const report: HealthReport = {
    status: 'ok',
    checkedAt: new Date(now).toISOString(),
    store: { kind: store.kind, ok: true, error: null },
    schedulers: [],
    executor: live?.executor ?? null,
    problems,
  };
  const age = (at: number | null) => (at === null ? null : Math.max(0, now - at));
  if (live?.scheduler.running) {
    report.schedulers.push({
      id: 'this process',
      hostname: null,
      pid: process.pid,
      lastHeartbeat:
        live.scheduler.lastTickAt === null
          ? null
          : new Date(live.scheduler.lastTickAt).toISOString(),
      heartbeatAgeMs: age(live.scheduler.lastTickAt),
    });
  }
  try {
    await sql`select 1`.execute(store.db);
    // The schedulers registry (high availability) may not exist in an older store.
    const registry = await sql<{
      present: boolean;
    }>`select to_regclass('schedulers') is not null as present`.execute(store.db);
    if (registry.rows[0]?.present) {
      const rows = await sql<{ id: string; hostname: string; pid: number; heartbeat_at: Date }>`
        select id, hostname, pid, heartbeat_at from schedulers order by heartbeat_at desc`.execute(
        store.db,
      );
      for (const r of rows.rows) {
        // This process's own row is already listed, with its loop's last tick.
        if (live?.scheduler.running && r.pid === process.pid && r.hostname === os.hostname())
          continue;
        const at = new Date(r.heartbeat_at).getTime();
        report.schedulers.push({
          id: r.id,
          hostname: r.hostname,
          pid: r.pid,
          lastHeartbeat: new Date(at).toISOString(),
          heartbeatAgeMs: age(at),
        });
      }
    }
  } catch (error) {
    report.store.ok = false;
    report.store.error = (error as Error).message;
    problems.push(`the store does not answer: ${(error as Error).message}`);
  }
  const beating = report.schedulers.filter(
    (s) => s.heartbeatAgeMs !== null && s.heartbeatAgeMs <= staleAfterMs,
  );
  if (report.store.ok && beating.length === 0) {
    problems.push(
      report.schedulers.length === 0
        ? 'no scheduler is running (start updraft standalone or updraft scheduler)'
        : `no scheduler heartbeat within ${Math.round(staleAfterMs / 1000)} s (latest: ${report.schedulers[0]?.lastHeartbeat ?? 'never'})`,
    );
  }
  report.status = problems.length ? 'unhealthy' : 'ok';
  return report;
}

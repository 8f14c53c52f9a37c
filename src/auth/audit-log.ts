/**
 * The audit log: one row per change asked of Updraft through the API (and each login),
 * with who (user and how they authenticated), what (action and target), when, from
 * where (IP and user agent) and how it ended. Secrets in the details are replaced by
 * `***` before they are written.
 */
import type { Clock } from '../core/clock.ts';
import type { AuditLogTable, AuthDb } from './schema.ts';

export interface AuditEntry {
  username: string | null;
  via: AuditLogTable['via'];
  action: string;
  target: string | null;
  details?: Record<string, unknown>;
  ip: string | null;
  userAgent: string | null;
  outcome: string;
}

/** An entry as listed. */
export interface AuditRecord extends Required<AuditEntry> {
  id: number;
  at: string;
}

export interface AuditFilter {
  username?: string;
  action?: string;
  /** Only entries with an id lower than this (paging backwards). */
  beforeId?: number;
  /** Default 100, at most 1000. */
  limit?: number;
}

const SECRET_KEYS = /pass(word)?|secret|token/i;

export class AuditLog {
  constructor(
    private readonly db: AuthDb,
    private readonly clock: Clock,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({
        at: new Date(this.clock.now()),
        username: entry.username,
        via: entry.via,
        action: entry.action,
        target: entry.target,
        details: JSON.stringify(redactSecrets(entry.details ?? {})),
        ip: entry.ip,
        user_agent: entry.userAgent?.slice(0, 300) ?? null,
        outcome: entry.outcome,
      })
      .execute();
  }

  /** Newest first. */
  async list(filter: AuditFilter = {}): Promise<AuditRecord[]> {
    let q = this.db
      .selectFrom('audit_log')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(Math.min(Math.max(filter.limit ?? 100, 1), 1000));
    if (filter.username) q = q.where('username', '=', filter.username);
    if (filter.action) q = q.where('action', '=', filter.action);
    if (filter.beforeId !== undefined) q = q.where('id', '<', filter.beforeId);
    const rows = await q.execute();
    return rows.map((r) => ({
      id: Number(r.id),
      at: new Date(r.at).toISOString(),
      username: r.username,
      via: r.via,
      action: r.action,
      target: r.target,
      details: r.details,
      ip: r.ip,
      userAgent: r.user_agent,
      outcome: r.outcome,
    }));
  }
}

/** A copy of `value` with every field whose name looks secret replaced by `***`. */
export function redactSecrets(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (SECRET_KEYS.test(key)) out[key] = '***';
    else if (v !== null && typeof v === 'object' && !Array.isArray(v))
      out[key] = redactSecrets(v as Record<string, unknown>);
    else out[key] = v;
  }
  return out;
}

/**
 * The metadata store: one PostgreSQL dialect for both backends.
 * - embedded: PGlite in `<home>/db` (default; one process at a time),
 * - server: PostgreSQL at `UPDRAFT_DATABASE_URL` (many processes).
 *
 * `Store` gives Kysely access for the query modules in `src/store/queries/`, a
 * transaction helper, and a change signal (`notify` / `subscribe`) that lets a CLI or API
 * process wake the scheduler: in-process for PGlite, LISTEN/NOTIFY for PostgreSQL.
 */

import { EventEmitter } from 'node:events';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { type CommittedAction, runCommittedActions, trackTransaction } from './after-commit.ts';
import { migrateToLatest } from './migrate.ts';
import { ensurePGliteDataDir } from './pglite-data-dir.ts';
import { PGliteDialect } from './pglite-dialect.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database> | Transaction<Database>;

/** Channel payloads: what changed, so a listener can act on just that. */
export type StoreSignal =
  | { kind: 'run_created'; dagId: string }
  | { kind: 'run_changed'; dagId: string; runId: string }
  | { kind: 'dag_changed'; dagId: string }
  | { kind: 'pools_changed' }
  /** New dataset versions committed outside an attempt (a quarantine replay). */
  | { kind: 'datasets_updated'; datasets: string[] }
  /** Scheduled task instances wait that the sender had no room for (shared schedulers). */
  | { kind: 'work_waiting'; from: string };

export interface Store {
  readonly db: Kysely<Database>;
  readonly kind: 'pglite' | 'postgres';
  /** Human label: the data folder or the server URL without password. */
  readonly label: string;
  /**
   * Runs `fn` in a transaction; rolled back if it throws. Functions it registered with
   * `afterCommit` run once the commit succeeded (`src/store/after-commit.ts`).
   */
  transaction<T>(fn: (tx: Transaction<Database>) => Promise<T>): Promise<T>;
  /** Tells every subscriber (in this and, for PostgreSQL, other processes) what changed. */
  notify(signal: StoreSignal): Promise<void>;
  /** Subscribes to change signals; returns an unsubscribe function. */
  subscribe(listener: (signal: StoreSignal) => void): Promise<() => void>;
  /** Applies pending migrations; returns the names applied. */
  migrate(): Promise<string[]>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** PostgreSQL URL; when absent the embedded store in `<home>/db` is used. */
  databaseUrl?: string | undefined;
  /** Home folder for the embedded store. */
  home: string;
}

const CHANNEL = 'updraft_signal';

// int8 (counts, sums) as numbers; our ids fit in 2^53.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

/** Opens the store (without migrating). */
export async function openStore(options: StoreOptions): Promise<Store> {
  return options.databaseUrl
    ? openPostgresStore(options.databaseUrl)
    : openPGliteStore(path.join(options.home, 'db'));
}

abstract class BaseStore implements Store {
  abstract readonly kind: 'pglite' | 'postgres';
  constructor(
    readonly db: Kysely<Database>,
    readonly label: string,
  ) {}
  async transaction<T>(fn: (tx: Transaction<Database>) => Promise<T>): Promise<T> {
    let actions: CommittedAction[] = [];
    const result = await this.db.transaction().execute((tx) => {
      actions = trackTransaction(tx);
      return fn(tx);
    });
    if (actions.length > 0) await runCommittedActions(actions, this.db);
    return result;
  }
  migrate(): Promise<string[]> {
    return migrateToLatest(this.db as unknown as Kysely<unknown>);
  }
  abstract notify(signal: StoreSignal): Promise<void>;
  abstract subscribe(listener: (signal: StoreSignal) => void): Promise<() => void>;
  abstract close(): Promise<void>;
}

class PGliteStore extends BaseStore {
  readonly kind = 'pglite' as const;
  private readonly events = new EventEmitter();
  async notify(signal: StoreSignal): Promise<void> {
    this.events.emit(CHANNEL, signal);
  }
  async subscribe(listener: (signal: StoreSignal) => void): Promise<() => void> {
    this.events.on(CHANNEL, listener);
    return () => this.events.off(CHANNEL, listener);
  }
  async close(): Promise<void> {
    this.events.removeAllListeners();
    await this.db.destroy();
  }
}

/** Opens PGlite on a data folder (created if missing) or `memory://`. */
export async function openPGliteStore(dataDir: string): Promise<Store> {
  if (!dataDir.startsWith('memory://')) await ensurePGliteDataDir(dataDir);
  const pglite = await PGlite.create(dataDir);
  return new PGliteStore(new Kysely<Database>({ dialect: new PGliteDialect(pglite) }), dataDir);
}

class PostgresStore extends BaseStore {
  readonly kind = 'postgres' as const;
  private listener: pg.Client | null = null;
  private closed = false;
  private readonly events = new EventEmitter();
  constructor(
    db: Kysely<Database>,
    label: string,
    private readonly url: string,
  ) {
    super(db, label);
  }
  async notify(signal: StoreSignal): Promise<void> {
    await sql`select pg_notify(${CHANNEL}, ${JSON.stringify(signal)})`.execute(this.db);
  }
  async subscribe(listener: (signal: StoreSignal) => void): Promise<() => void> {
    if (!this.listener) await this.listen();
    this.events.on(CHANNEL, listener);
    return () => this.events.off(CHANNEL, listener);
  }

  /**
   * Opens the LISTEN connection. If it drops (server restart, network), it is reopened
   * with backoff; meanwhile the scheduler's periodic full pass covers lost signals.
   */
  private async listen(attempt = 0): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (msg) => {
      if (msg.channel !== CHANNEL || !msg.payload) return;
      this.events.emit(CHANNEL, JSON.parse(msg.payload) as StoreSignal);
    });
    const dropped = () => {
      if (this.listener === client) this.relisten(attempt);
    };
    client.on('error', dropped);
    client.on('end', dropped);
    this.listener = client;
    await client.connect();
    await client.query(`listen ${CHANNEL}`);
  }

  private relisten(attempt: number): void {
    this.listener = null;
    if (this.closed) return;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
    setTimeout(() => {
      if (!this.closed) this.listen(attempt + 1).catch(() => this.relisten(attempt + 1));
    }, delay).unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.events.removeAllListeners();
    await this.listener?.end().catch(() => undefined);
    await this.db.destroy();
  }
}

/** Opens a PostgreSQL server store (a pool of 10 connections). */
export async function openPostgresStore(url: string): Promise<Store> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // A connection the server drops (restart, pg_terminate_backend) fails the query or
  // transaction using it, and the pool replaces it. Its 'error' event — emitted by the
  // pool for an idle connection, by the client itself while it is checked out between
  // two queries of a transaction — would otherwise end the process.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return new PostgresStore(db, redactUrl(url), url);
}

/** The URL with its password replaced by `***`, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid database url>';
  }
}

/** JSON for a `jsonb` column. */
export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

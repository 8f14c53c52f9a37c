/**
 * Where `seedShop` writes: a PostgreSQL server (one `COPY ... FROM STDIN` stream per
 * table, with back-pressure) or an embedded PGlite folder (one `COPY ... FROM
 * '/dev/blob'` per batch). Either way only one batch of CSV is in memory at a time.
 * `pg`, `pg-copy-streams` and PGlite are imported on first use.
 */
import { mkdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { UpdraftError } from '../core/errors.ts';

/** A database the shop can be seeded into. */
export interface SeedTarget {
  /** Where it is, for messages (never a password). */
  readonly description: string;
  /** Runs SQL (several statements allowed). */
  execute(sql: string): Promise<void>;
  /** Runs one query and returns its rows. */
  query(sql: string): Promise<Array<Record<string, unknown>>>;
  /** Copies CSV chunks into `table` (`columns` in order); `chunks` is read lazily. */
  copyCsv(table: string, columns: readonly string[], chunks: Iterable<string>): Promise<void>;
  close(): Promise<void>;
}

/** Where a PostgreSQL URL points: host, port and database, never the password. */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}

/**
 * Opens the PostgreSQL server at `connection` (a URL, or client settings such as an
 * embedded database's socket); a clear error when it is not reachable.
 */
export async function openPostgresSeedTarget(
  connection: string | pg.ClientConfig,
  label: string,
): Promise<SeedTarget> {
  const { default: pgModule } = await import('pg');
  const where =
    typeof connection === 'string' ? describePostgresUrl(connection) : String(connection.host);
  const client: pg.Client = new pgModule.Client({
    ...(typeof connection === 'string' ? { connectionString: connection } : connection),
    application_name: 'updraft:examples-seed',
  });
  client.on('error', () => {}); // reported by the failing query
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw new UpdraftError(
      'seed_unreachable',
      `cannot connect to ${label} (${where}): ${(error as Error).message}. Check that the server is running and the URL is right.`,
      { cause: error },
    );
  }
  const { from } = await import('pg-copy-streams');
  return {
    description: `${label} (${where})`,
    async execute(sql) {
      await client.query(sql);
    },
    async query(sql) {
      return (await client.query(sql)).rows;
    },
    async copyCsv(table, columns, chunks) {
      const sink = client.query(
        from(`copy ${table} (${columns.join(', ')}) from stdin with (format csv)`),
      );
      await pipeline(Readable.from(chunks, { objectMode: false }), sink);
    },
    async close() {
      await client.end().catch(() => {});
    },
  };
}

/** Opens (creating it if needed) the embedded PGlite database in folder `dataDir`. */
export async function openPGliteSeedTarget(dataDir: string): Promise<SeedTarget> {
  mkdirSync(dataDir, { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  let db: PGlite;
  try {
    db = await PGlite.create(dataDir);
  } catch (error) {
    throw new UpdraftError(
      'seed_unreachable',
      `cannot open the embedded source database in ${dataDir}: ${(error as Error).message}. Is another process using it?`,
      { cause: error },
    );
  }
  return {
    description: `embedded PGlite source (${dataDir})`,
    async execute(sql) {
      await db.exec(sql);
    },
    async query(sql) {
      return (await db.query<Record<string, unknown>>(sql)).rows;
    },
    async copyCsv(table, columns, chunks) {
      for (const chunk of chunks) {
        await db.query(
          `copy ${table} (${columns.join(', ')}) from '/dev/blob' with (format csv)`,
          [],
          {
            blob: new Blob([chunk]),
          },
        );
      }
    },
    async close() {
      await db.close();
    },
  };
}

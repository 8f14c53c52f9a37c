/**
 * The example shop's embedded source: a PGlite database in `<home>/examples/source`
 * that the example pipelines read through the connection `shop_source`.
 *
 * `updraft standalone` serves it (src/data/pglite-server-process.ts) so that worker
 * processes reach it like a PostgreSQL server, seeds it on the first start, and makes
 * `shop_source` default to it. `updraft examples seed` writes into it through that
 * server while a standalone runs, and opens the folder itself otherwise.
 */
import path from 'node:path';
import { connectionsFilePath, readConnectionsFile } from '../data/connection-store.ts';
import {
  PGLITE_SOCKET_PORT,
  pgliteSocketDir,
  pgliteSocketPath,
  pgliteUrl,
} from '../data/pglite-address.ts';
import {
  type PGliteServerLog,
  socketAnswers,
  startPGliteServerProcess,
} from '../data/pglite-server-process.ts';
import { connectionEnvVar } from '../operators/connections.ts';
import { type SeedShopOptions, type SeedSummary, SHOP_SCHEMA, seedShop } from './seed-shop.ts';
import { openPGliteSeedTarget, openPostgresSeedTarget, type SeedTarget } from './seed-target.ts';

/** The connection the example pipelines read the shop from. */
export const SHOP_SOURCE_CONNECTION = 'shop_source';

/** Scale seeded on a standalone's first start (about 7,500 transactions). */
export const FIRST_START_SCALE = 1;

/** The embedded source database's folder under a home folder. */
export function embeddedSourceDir(home: string): string {
  return path.join(home, 'examples', 'source');
}

/** Client settings for the embedded source's socket (while a server runs). */
function socketClientConfig(home: string) {
  return {
    host: pgliteSocketDir(embeddedSourceDir(home)),
    port: PGLITE_SOCKET_PORT,
    user: 'postgres',
    database: 'postgres',
  };
}

/**
 * A seed target on the embedded source: through its server's socket when one runs
 * (a standalone), else the folder opened in this process.
 */
export async function openEmbeddedSeedTarget(home: string): Promise<SeedTarget> {
  const dir = embeddedSourceDir(home);
  if (await socketAnswers(pgliteSocketPath(dir))) {
    return openPostgresSeedTarget(
      socketClientConfig(home),
      `embedded PGlite source ${dir}, served`,
    );
  }
  return openPGliteSeedTarget(dir);
}

/** Where `shop_source` is defined outside the embedded source, if anywhere we can see. */
function userDefinedSource(home: string, env: NodeJS.ProcessEnv): string | null {
  const variable = connectionEnvVar(SHOP_SOURCE_CONNECTION);
  if (env[variable]?.trim()) return variable;
  const file = connectionsFilePath(home);
  return readConnectionsFile(file).has(SHOP_SOURCE_CONNECTION) ? file : null;
}

export interface ExampleSourceOptions {
  log: PGliteServerLog;
  /** Options of a first-start seed (default scale `FIRST_START_SCALE`, the default seed). */
  seed?: Pick<SeedShopOptions, 'onProgress' | 'onKeys' | 'scale' | 'seed'>;
  /** Called before a first-start seed begins. */
  onSeedStart?: (scale: number) => void;
  /** Environment to read and to set `UPDRAFT_CONN_SHOP_SOURCE` in (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/** What `startExampleSource` did. */
export type ExampleSource =
  | { kind: 'user'; definedIn: string }
  | {
      kind: 'embedded';
      url: string;
      dir: string;
      seeded: SeedSummary | null;
      stop(): Promise<void>;
    };

/**
 * For a standalone: unless the user defined `shop_source` (environment or connections
 * file), serves the embedded source, seeds it if it holds no shop yet, and sets
 * `UPDRAFT_CONN_SHOP_SOURCE` to it — the lowest-priority definition, so a stored
 * connection of that name still wins in tasks. Call before workers start (they inherit
 * the environment).
 */
export async function startExampleSource(
  home: string,
  options: ExampleSourceOptions,
): Promise<ExampleSource> {
  const env = options.env ?? process.env;
  const definedIn = userDefinedSource(home, env);
  if (definedIn !== null) return { kind: 'user', definedIn };
  const dir = embeddedSourceDir(home);
  const server = await startPGliteServerProcess(dir, options.log);
  try {
    let seeded: SeedSummary | null = null;
    const target = await openPostgresSeedTarget(
      socketClientConfig(home),
      `embedded PGlite source ${dir}`,
    );
    try {
      const [row] = await target.query(`select to_regclass('${SHOP_SCHEMA}.seed_info') as seeded`);
      if (row?.seeded == null) {
        const scale = options.seed?.scale ?? FIRST_START_SCALE;
        options.onSeedStart?.(scale);
        seeded = await seedShop(target, { ...options.seed, scale });
      }
    } finally {
      await target.close();
    }
    env[connectionEnvVar(SHOP_SOURCE_CONNECTION)] = pgliteUrl(dir);
    return { kind: 'embedded', url: server.url, dir, seeded, stop: () => server.stop() };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

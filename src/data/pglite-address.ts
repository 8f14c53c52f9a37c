/**
 * Where an embedded PGlite database is served (src/data/pglite-server.ts) and how a
 * connection names it. A connection URL `pglite:///abs/path/to/folder` names the PGlite
 * data folder; its server listens on the Unix socket `<folder>.socket/.s.PGSQL.5432`,
 * which is where any PostgreSQL client finds it (`host` = the socket's folder). This
 * module loads nothing heavy: workers use it to connect.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The port in the socket file's name (`.s.PGSQL.<port>`), as PostgreSQL clients expect. */
export const PGLITE_SOCKET_PORT = 5432;

/** The folder of the socket serving the PGlite data folder `dataDir`. */
export function pgliteSocketDir(dataDir: string): string {
  return `${path.resolve(dataDir)}.socket`;
}

/** The socket file serving the PGlite data folder `dataDir`. */
export function pgliteSocketPath(dataDir: string): string {
  return path.join(pgliteSocketDir(dataDir), `.s.PGSQL.${PGLITE_SOCKET_PORT}`);
}

/** The connection URL of the PGlite data folder `dataDir` (`pglite:///abs/path`). */
export function pgliteUrl(dataDir: string): string {
  return pathToFileURL(path.resolve(dataDir)).href.replace(/^file:/, 'pglite:');
}

/** The data folder a `pglite://` URL names; throws when the URL names none. */
export function pgliteDataDir(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'pglite:' || parsed.pathname === '' || parsed.pathname === '/') {
    throw new Error('a pglite connection URL names a data folder: pglite:///absolute/path');
  }
  if (parsed.host !== '') {
    throw new Error(
      `a pglite connection URL names an absolute folder (pglite:///${parsed.host}${parsed.pathname} rather than pglite://${parsed.host}${parsed.pathname})`,
    );
  }
  return fileURLToPath(`file://${parsed.pathname}`);
}

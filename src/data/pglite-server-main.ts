/**
 * Entry point of the PGlite server process (see `pglite-server-process.ts`): opens the
 * PGlite data folder given as its argument, serves it on its socket
 * (`pglite-server.ts`), and says `ready` over IPC. It ignores Ctrl-C (the terminal sends
 * it to the whole process group) and closes the database cleanly when its parent
 * disconnects, so a stop never cuts a write in half.
 */
import { PGlite } from '@electric-sql/pglite';
import { pgliteSocketPath } from './pglite-address.ts';
import { servePGlite } from './pglite-server.ts';

/** What the server process tells its parent. */
export type PGliteServerReport =
  | { type: 'ready'; socketPath: string }
  | { type: 'problem'; message: string };

function report(message: PGliteServerReport): void {
  if (process.connected) process.send?.(message);
}

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: pglite-server-main <data folder>');

process.on('SIGINT', () => {});
// PGlite's default 128 MB of shared buffers is most of its memory; a source read in
// streams needs little (the operating system caches the files anyway).
const db = await PGlite.create(dataDir, { postgresqlconf: 'shared_buffers = 16MB' });
const server = await servePGlite(db, {
  socketPath: pgliteSocketPath(dataDir),
  onError: (error) => report({ type: 'problem', message: error.message }),
});
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.close();
  await db.close();
  process.exit(0);
};
process.on('disconnect', () => void stop());
process.on('SIGTERM', () => void stop());
report({ type: 'ready', socketPath: server.socketPath });

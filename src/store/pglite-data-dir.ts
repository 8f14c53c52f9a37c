/**
 * Creating PGlite data folders. Creating a database (initdb) leaves PGlite holding about
 * twice the memory of opening an existing one, for the life of the process; so a new
 * folder is created in a short-lived child process, which keeps long-running processes
 * (a standalone, the embedded source's server) lean.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Whether `dataDir` holds a PGlite (PostgreSQL) data folder. */
export function isPGliteDataDir(dataDir: string): boolean {
  return existsSync(path.join(dataDir, 'PG_VERSION'));
}

/** Creates the PGlite data folder `dataDir` unless it exists (in a child process). */
export async function ensurePGliteDataDir(dataDir: string): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  if (isPGliteDataDir(dataDir)) return;
  // Resolved from this file's folder, so the child finds the same PGlite package.
  const script =
    "const { PGlite } = await import('@electric-sql/pglite'); const db = await PGlite.create(process.argv[1]); await db.close();";
  const cwd = path.dirname(fileURLToPath(import.meta.url));
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script, dataDir],
      { cwd },
      (error, _out, stderr) => {
        if (error)
          reject(
            new Error(
              `could not create the PGlite database in ${dataDir}: ${stderr || error.message}`,
              {
                cause: error,
              },
            ),
          );
        else resolve();
      },
    );
  });
}

/**
 * `updraft db migrate`: applies pending migrations to the metadata store.
 */
import type { Command } from 'commander';
import { commandLine, settingsOf } from '../context.ts';
import { painter, say } from '../output.ts';

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('the metadata store');

  db.command('migrate')
    .description('apply pending migrations (standalone and scheduler also do at start)')
    .action(async (_opts: unknown, cmd: Command) => {
      const { home, databaseUrl } = settingsOf(cmd);
      const { acquireLock } = await import('../../control/lock.ts');
      const { migrateDatabase } = await import('../../runtime.ts');
      const lock = databaseUrl ? null : acquireLock(home, { command: commandLine(cmd) });
      try {
        const { applied } = await migrateDatabase({ home, databaseUrl });
        const paint = painter();
        say(
          applied.length === 0
            ? 'the store is up to date'
            : `applied ${applied.length} migration(s): ${applied.join(', ')}`,
        );
        say(
          paint(
            'dim',
            databaseUrl ? 'store: PostgreSQL (UPDRAFT_DATABASE_URL)' : `store: ${home}/db`,
          ),
        );
      } finally {
        lock?.release();
      }
    });
}

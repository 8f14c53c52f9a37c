/**
 * `updraft connections ...`: list (stored and file connections, redacted), add (stored
 * encrypted with UPDRAFT_SECRET_KEY), remove, rotate-key. Environment connections
 * (`UPDRAFT_CONN_<NAME>`) are not listed: they live in each process's environment.
 */
import type { Command } from 'commander';
import { localActor } from '../../auth/local-actor.ts';
import { UsageError } from '../errors.ts';
import { isoTime, printJson, printTable, say } from '../output.ts';
import { withDatasetOperations } from './datasets.ts';

/** Reads all of standard input (a URL piped in, so it stays out of the shell history). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

export function registerConnectionCommands(program: Command): void {
  const connections = program
    .command('connections')
    .description('named connections: stored encrypted, or in the connections file');

  connections
    .command('list')
    .description('stored and file connections, secrets hidden')
    .option('--json', 'print ConnectionSummary[] as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withDatasetOperations(cmd, async (ops) => {
        const list = await ops.listConnections();
        if (opts.json) return printJson(list);
        printTable(
          ['name', 'type', 'source', 'url', 'description', 'updated'],
          list.map((c) => [
            c.name,
            c.type,
            c.source,
            c.url,
            c.description ?? '-',
            isoTime(c.updatedAt),
          ]),
          'no stored or file connections (UPDRAFT_CONN_<NAME> variables are not listed)',
        );
      });
    });

  connections
    .command('add <name> [url]')
    .description(
      'store a connection, encrypted with UPDRAFT_SECRET_KEY; without [url], it is read from standard input',
    )
    .option('--description <text>', 'what it is for')
    .action(
      async (
        name: string,
        url: string | undefined,
        opts: { description?: string },
        cmd: Command,
      ) => {
        const value = url ?? (process.stdin.isTTY ? '' : await readStdin());
        if (value === '') {
          throw new UsageError(
            `give the URL of connection '${name}' as an argument or on standard input (echo "$URL" | updraft connections add ${name})`,
          );
        }
        await withDatasetOperations(cmd, async (ops) => {
          const saved = await ops.putConnection(
            { name, url: value, description: opts.description ?? null },
            localActor(),
          );
          say(`stored connection ${saved.name} (${saved.type}): ${saved.url}`);
        });
      },
    );

  connections
    .command('remove <name>')
    .description('remove a stored connection')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withDatasetOperations(cmd, async (ops) => {
        await ops.deleteConnection(name, localActor());
        say(`removed connection ${name}`);
      });
    });

  connections
    .command('rotate-key')
    .description(
      're-encrypt stored connections with UPDRAFT_SECRET_KEY (old keys in UPDRAFT_SECRET_KEY_PREVIOUS)',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      await withDatasetOperations(cmd, async (ops) => {
        const { reencrypted } = await ops.rotateConnectionKey(localActor());
        say(`re-encrypted ${reencrypted} connection(s) with the current key`);
      });
    });
}

/**
 * `updraft examples seed [--scale N] [--seed N] [--connection NAME]`: generates the
 * example shop (src/examples) and loads it into the source database — the PostgreSQL
 * server of a connection (the connections file, then `UPDRAFT_CONN_<NAME>`), or by
 * default the embedded PGlite source in `<home>/examples/source` (through the server of a
 * running standalone, which serves it, else opened directly). Shows a progress bar
 * on a terminal and one line per table otherwise.
 */
import type { Command } from 'commander';
import type { SeedProgress } from '../../examples/seed-shop.ts';
import { settingsOf } from '../context.ts';
import { UsageError } from '../errors.ts';
import { humanDuration, say } from '../output.ts';

function parseNumber(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) {
    throw new UsageError(`${flag} must be a number; got '${text}'`);
  }
  return value;
}

/** The URL of connection `name`: the connections file, then `UPDRAFT_CONN_<NAME>`. */
async function connectionUrl(home: string, name: string): Promise<string> {
  const { connectionsFilePath, readConnectionsFile } = await import(
    '../../data/connection-store.ts'
  );
  const { connectionEnvVar } = await import('../../operators/connections.ts');
  const file = connectionsFilePath(home);
  const fromFile = readConnectionsFile(file).get(name);
  const variable = connectionEnvVar(name);
  const url = fromFile?.url ?? process.env[variable]?.trim();
  if (url) {
    if (!/^postgres(ql)?:\/\//i.test(url)) {
      throw new UsageError(
        `connection '${name}' is not a postgres:// connection; the shop is seeded into PostgreSQL`,
      );
    }
    return url;
  }
  throw new UsageError(
    `connection '${name}' is not defined: add it to ${file} or set ${variable} (e.g. postgres://user:password@host:5432/shop)`,
  );
}

/** Renders progress: a redrawn bar on a terminal, a line per finished table otherwise. */
export function progressPrinter(stream: NodeJS.WriteStream): (p: SeedProgress) => void {
  if (!stream.isTTY) {
    return (p) => {
      if (p.done) say(`[${p.tableIndex + 1}/${p.tableCount}] ${p.table}: ${p.rows} rows`);
    };
  }
  const width = 30;
  return (p) => {
    const share = Math.min(1, p.done ? 1 : p.rows / Math.max(1, p.expectedRows));
    const filled = Math.round(share * width);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
    const line = `[${p.tableIndex + 1}/${p.tableCount}] ${p.table.padEnd(12)} [${bar}] ${p.rows.toLocaleString('en')} rows`;
    stream.write(`\r\x1b[2K${line}${p.done ? '\n' : ''}`);
  };
}

export function registerExampleCommands(program: Command): void {
  const examples = program.command('examples').description('the example shop and its pipelines');

  examples
    .command('seed')
    .description(
      'generate the example shop (customers, articles, orders, transactions, reviews, web events, daily sales) and load it into the source database, replacing the shop schema',
    )
    .option(
      '--scale <n>',
      'size: 1 is about 7,500 transactions, 1000 about 7.5 million (0.01 to 5000)',
      '1',
    )
    .option('--seed <n>', 'random seed: the same seed and scale give the same data', '42')
    .option(
      '--connection <name>',
      'PostgreSQL connection to seed (connections file or UPDRAFT_CONN_<NAME>); default: the embedded source in <home>/examples/source',
    )
    .action(async (opts: { scale: string; seed: string; connection?: string }, cmd: Command) => {
      const scale = parseNumber('--scale', opts.scale);
      const seed = parseNumber('--seed', opts.seed);
      const { assertScale } = await import('../../examples/shop-tables.ts');
      try {
        assertScale(scale);
      } catch (error) {
        throw new UsageError(`--scale: ${(error as Error).message}`);
      }
      if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
        throw new UsageError(
          `--seed must be a whole number from 0 to 4294967295; got ${opts.seed}`,
        );
      }
      const { home } = settingsOf(cmd);
      const targets = await import('../../examples/seed-target.ts');
      const target =
        opts.connection === undefined
          ? await (await import('../../examples/example-source.ts')).openEmbeddedSeedTarget(home)
          : await targets.openPostgresSeedTarget(
              await connectionUrl(home, opts.connection),
              `connection '${opts.connection}'`,
            );
      try {
        const { seedShop } = await import('../../examples/seed-shop.ts');
        say(`seeding the example shop (scale ${scale}, seed ${seed}) into ${target.description}`);
        const summary = await seedShop(target, {
          scale,
          seed,
          onProgress: progressPrinter(process.stdout),
          onKeys: () => say('adding primary and foreign keys'),
        });
        const total = summary.tables.reduce((sum, t) => sum + t.rows, 0);
        say(
          `seeded ${total} rows in ${summary.tables.length} tables of schema shop in ${humanDuration(summary.milliseconds)}`,
        );
      } finally {
        await target.close();
      }
    });
}

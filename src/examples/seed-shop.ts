/**
 * Loads the example shop into a source database: drops and recreates the `shop` schema,
 * streams every table in batches, then adds primary and foreign keys and records what
 * was seeded in `shop.seed_info`. Everything runs in one transaction, so a failed seed
 * leaves the previous data as it was and a repeated seed replaces it.
 */
import type { SeedTarget } from './seed-target.ts';
import { rowsToCsv } from './shop-csv.ts';
import { type ShopOptions, type ShopTable, shopTables } from './shop-tables.ts';

/** The schema the shop's tables live in. */
export const SHOP_SCHEMA = 'shop';
/** The default seed. */
export const DEFAULT_SHOP_SEED = 42;
/** Rows per batch (one CSV chunk in memory at a time). */
export const DEFAULT_BATCH_ROWS = 20_000;

/** Progress of a seed, reported after each batch and at each table's end. */
export interface SeedProgress {
  table: string;
  /** Position of the table (0-based) and number of tables. */
  tableIndex: number;
  tableCount: number;
  /** Rows written so far in this table. */
  rows: number;
  /** Rows expected in this table (an estimate for transactions and events). */
  expectedRows: number;
  /** True once the table is complete. */
  done: boolean;
}

export interface SeedShopOptions extends Partial<ShopOptions> {
  batchRows?: number;
  onProgress?: (progress: SeedProgress) => void;
  /** Called once every table is loaded, before the keys are added (slow on big seeds). */
  onKeys?: () => void;
}

/** What a seed wrote. */
export interface SeedSummary {
  seed: number;
  scale: number;
  tables: Array<{ name: string; rows: number }>;
  milliseconds: number;
}

function createTableSql(table: ShopTable): string {
  const columns = table.columns.map(([name, type]) => `${name} ${type}`).join(', ');
  return `create table ${SHOP_SCHEMA}.${table.name} (${columns});`;
}

function constraintsSql(table: ShopTable): string {
  const statements = [
    `alter table ${SHOP_SCHEMA}.${table.name} add primary key (${table.primaryKey.join(', ')});`,
  ];
  for (const fk of table.foreignKeys) {
    statements.push(
      `alter table ${SHOP_SCHEMA}.${table.name} add foreign key (${fk.column}) references ${SHOP_SCHEMA}.${fk.references} (${fk.referencedColumn});`,
    );
  }
  return statements.join('\n');
}

/** Seeds the shop into `target` at `options.scale` (default 1) with `options.seed` (default 42). */
export async function seedShop(
  target: SeedTarget,
  options: SeedShopOptions = {},
): Promise<SeedSummary> {
  const seed = options.seed ?? DEFAULT_SHOP_SEED;
  const scale = options.scale ?? 1;
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  const tables = shopTables({ seed, scale });
  const started = Date.now();
  const written: SeedSummary['tables'] = [];
  await target.execute('begin');
  try {
    await target.execute(
      `drop schema if exists ${SHOP_SCHEMA} cascade; create schema ${SHOP_SCHEMA};\n${tables.map(createTableSql).join('\n')}`,
    );
    for (const [tableIndex, table] of tables.entries()) {
      let rows = 0;
      const report = (done: boolean): void =>
        options.onProgress?.({
          table: table.name,
          tableIndex,
          tableCount: tables.length,
          rows,
          expectedRows: table.expectedRows,
          done,
        });
      report(false);
      function* chunks(): Generator<string> {
        for (const batch of table.batches(batchRows)) {
          yield rowsToCsv(batch);
          rows += batch.length;
          report(false);
        }
      }
      await target.copyCsv(
        `${SHOP_SCHEMA}.${table.name}`,
        table.columns.map(([name]) => name),
        chunks(),
      );
      report(true);
      written.push({ name: table.name, rows });
    }
    options.onKeys?.();
    await target.execute(tables.map(constraintsSql).join('\n'));
    const rowsJson = JSON.stringify(Object.fromEntries(written.map((t) => [t.name, t.rows])));
    await target.execute(
      `create table ${SHOP_SCHEMA}.seed_info (seed bigint not null, scale double precision not null, table_rows jsonb not null, seeded_at timestamptz not null default now());
       insert into ${SHOP_SCHEMA}.seed_info (seed, scale, table_rows) values (${seed}, ${scale}, '${rowsJson}');
       commit;`,
    );
  } catch (error) {
    await target.execute('rollback').catch(() => {});
    throw error;
  }
  return { seed, scale, tables: written, milliseconds: Date.now() - started };
}

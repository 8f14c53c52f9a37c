/**
 * Shop rows as PostgreSQL CSV (`COPY ... WITH (FORMAT csv)`): an unquoted empty field
 * is NULL, so empty strings are written as `""`.
 */
import type { ShopRow, ShopValue } from './shop-tables.ts';

function field(value: ShopValue): string {
  if (value === null) return '';
  if (typeof value !== 'string') return String(value);
  if (value === '' || /[",\r\n]/.test(value)) return `"${value.replaceAll('"', '""')}"`;
  return value;
}

/** One batch as CSV lines, each ending in a newline. */
export function rowsToCsv(rows: readonly ShopRow[]): string {
  let text = '';
  for (const row of rows) text += `${row.map(field).join(',')}\n`;
  return text;
}

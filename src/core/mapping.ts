/**
 * Dynamic task mapping: the limits, and how the items of a mapped task are taken from
 * its upstream task's result. Used by the spec validator and by the scheduler when it
 * expands a mapped task.
 */
import type { Json, MapOver } from './dag-spec.ts';
import { valueAtPath } from './result-path.ts';

/** Default `maxItems` of a mapped task. */
export const DEFAULT_MAP_MAX_ITEMS = 1024;
/** Largest `maxItems` a task may set. */
export const MAX_MAP_ITEMS = 10_000;

/** The items a mapped task expands to, or why it cannot expand. */
export type MapItems = { ok: true; items: Json[] } | { ok: false; message: string };

/**
 * The array a mapped task maps over, taken from its upstream's result. Fails, saying
 * why, when the value is missing or not an array, or has more than `maxItems` items.
 */
export function mapItems(mapOver: MapOver, result: Json | undefined): MapItems {
  const where = `the result of '${mapOver.upstream}'${mapOver.path === null ? '' : ` at '${mapOver.path}'`}`;
  const value = valueAtPath(result, mapOver.path);
  if (!Array.isArray(value)) {
    const got = value === undefined ? 'nothing' : value === null ? 'null' : `a ${typeof value}`;
    return { ok: false, message: `cannot map over ${where}: expected an array, got ${got}` };
  }
  if (value.length > mapOver.maxItems) {
    return {
      ok: false,
      message: `cannot map over ${where}: ${value.length} items is more than maxItems ${mapOver.maxItems}`,
    };
  }
  return { ok: true, items: value };
}

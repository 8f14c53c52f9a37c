/**
 * Paths into a task result, as `mapOver.path` and `branch.path` name them: dotted keys
 * of objects (`rows`, `data.items`), with a number selecting an element of a list
 * (`0.follow`: the `follow` field of the first row a query returned).
 */
import type { Json } from './dag-spec.ts';

/** A dotted path of object keys and list positions: `rows`, `data.items`, `0.follow`. */
export const RESULT_PATH = /^([A-Za-z_$][\w$-]*|\d+)(\.([A-Za-z_$][\w$-]*|\d+))*$/;

/** The value at `path` (null: the result itself) in `result`; undefined when absent. */
export function valueAtPath(result: Json | undefined, path: string | null): Json | undefined {
  let value: Json | undefined = result;
  for (const key of path === null ? [] : path.split('.')) {
    if (Array.isArray(value)) value = /^\d+$/.test(key) ? value[Number(key)] : undefined;
    else if (value !== null && typeof value === 'object' && Object.hasOwn(value, key)) {
      value = value[key];
    } else value = undefined;
  }
  return value;
}

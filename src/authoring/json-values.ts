/**
 * Checks that authored values (operator configs, params schemas) are plain JSON, so the
 * spec survives serialisation unchanged. Fields set to `undefined` are dropped, as
 * `JSON.stringify` would.
 */
import type { Json } from '../core/dag-spec.ts';

/** Receives a value that is not JSON, by its path (`config.env.A`). */
export type JsonProblem = (path: string, message: string) => void;

/**
 * A copy of `value` as JSON, reporting every part that is not: functions, symbols,
 * bigints, non-finite numbers, `Date`s and other class instances, and cycles. Such parts
 * are left out of the copy.
 */
export function plainJson(value: unknown, path: string, problem: JsonProblem): Json {
  return copy(value, path, problem, new Set()) ?? null;
}

function copy(
  value: unknown,
  path: string,
  problem: JsonProblem,
  ancestors: Set<object>,
): Json | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    problem(path, `${value} is not a JSON number`);
    return undefined;
  }
  if (typeof value !== 'object') {
    problem(path, `a ${typeof value} is not JSON`);
    return undefined;
  }
  if (ancestors.has(value)) {
    problem(path, 'refers back to itself (a cycle is not JSON)');
    return undefined;
  }
  const prototype = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) {
    const kind =
      value instanceof Date ? 'a Date' : `a ${value.constructor?.name ?? 'class'} object`;
    problem(path, `${kind} is not JSON: use strings, numbers, booleans, arrays and plain objects`);
    return undefined;
  }
  ancestors.add(value);
  let result: Json;
  if (Array.isArray(value)) {
    result = value.map((item, i) => copy(item, `${path}[${i}]`, problem, ancestors) ?? null);
  } else {
    const out: { [key: string]: Json } = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      const json = copy(item, `${path}.${key}`, problem, ancestors);
      if (json !== undefined) out[key] = json;
    }
    result = out;
  }
  ancestors.delete(value);
  return result;
}

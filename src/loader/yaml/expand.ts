/**
 * Load-time expansion: a task with `expand` becomes one task per value, each a copy of
 * the task in which `{{ expand.item }}` (or `{{ expand.item.field }}`) and
 * `{{ expand.index }}` are replaced. A string that is only a placeholder takes the
 * value as is (a list, a number); inside longer text the value is written as text (JSON
 * for lists and maps). The copies are named `<task>_<value>` when every value is a
 * distinct name (letters, digits, `_`, `-`), else `<task>_<index>`. Run-time templates
 * such as `{{ ds }}` are left alone.
 */
import { copyEntryMark, copyNodeMark, type YamlMap, type YamlValue } from './yaml-value.ts';

/** Most copies one task may expand to. */
export const MAX_EXPANDED_TASKS = 1000;

const PLACEHOLDER = /\{\{\s*expand\.(item|index)((?:\.[A-Za-z0-9_-]+)*)\s*\}\}/g;
const WHOLE = /^\{\{\s*expand\.(item|index)((?:\.[A-Za-z0-9_-]+)*)\s*\}\}$/;
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

/** Local ids of the copies of task `id` expanded over `items`. */
export function expandedIds(id: string, items: readonly YamlValue[]): string[] {
  const names = items.map((item) =>
    typeof item === 'string' || typeof item === 'number' ? String(item) : undefined,
  );
  const distinct = new Set(names).size === names.length;
  const usable = distinct && names.every((name) => name !== undefined && NAME.test(name));
  return items.map((_, i) => `${id}_${usable ? names[i] : i}`);
}

/** A problem met while substituting (an unknown field of the item). */
export type SubstituteProblem = (message: string) => void;

/** A copy of `value` with the expand placeholders replaced for item `item` at `index`. */
export function substitute(
  value: YamlValue,
  item: YamlValue,
  index: number,
  problem: SubstituteProblem,
): YamlValue {
  if (typeof value === 'string') return substituteText(value, item, index, problem);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const list = value.map((entry) => substitute(entry, item, index, problem));
    copyNodeMark(value, list);
    return list;
  }
  const map: YamlMap = {};
  copyNodeMark(value, map);
  for (const key of Object.keys(value)) {
    map[key] = substitute(value[key] ?? null, item, index, problem);
    copyEntryMark(value, map, key);
  }
  return map;
}

function substituteText(
  text: string,
  item: YamlValue,
  index: number,
  problem: SubstituteProblem,
): YamlValue {
  if (!text.includes('expand.')) return text;
  const resolve = (which: string, fields: string): YamlValue => {
    if (which === 'index') return index;
    let value: YamlValue = item;
    for (const field of fields.split('.').slice(1)) {
      if (
        value === null ||
        typeof value !== 'object' ||
        Array.isArray(value) ||
        !Object.hasOwn(value, field)
      ) {
        problem(`the item ${JSON.stringify(item)} has no field '${field}'`);
        return null;
      }
      value = value[field] ?? null;
    }
    return value;
  };
  const whole = WHOLE.exec(text);
  if (whole !== null) return resolve(whole[1] ?? 'item', whole[2] ?? '');
  return text.replace(PLACEHOLDER, (_all, which: string, fields: string) => {
    const value = resolve(which, fields);
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

/**
 * Values read from YAML pipeline files, and where each part of them came from.
 *
 * A parsed file is plain JSON-like data (`YamlValue`): maps, lists, strings, numbers,
 * booleans and null, with string keys only. Every map and list made by the parser or by
 * a merge is registered in a side table with the position of each of its entries, so an
 * error found after templates, defaults and environments were merged still points at the
 * line that wrote the value at fault — in the pipeline file, a template or a
 * `defaults.yaml` file.
 */

/** A position in a YAML file; line and column count from 1. */
export interface SourcePos {
  file: string;
  line: number;
  column: number;
}

/** A YAML map with string keys. */
export interface YamlMap {
  [key: string]: YamlValue;
}

/** What a YAML pipeline file is made of. */
export type YamlValue = null | boolean | number | string | YamlValue[] | YamlMap;

/** Positions of a map or list and of its entries. */
interface NodePositions {
  /** The map or list itself. */
  self: SourcePos;
  /** Map entries: where the key was written and where its value starts. */
  keys?: Map<string, { key: SourcePos; value: SourcePos }>;
  /** List items: where each starts. */
  items?: SourcePos[];
}

const positions = new WeakMap<object, NodePositions>();

/** Records where map or list `node` was written. */
export function setPosition(node: YamlMap | YamlValue[], self: SourcePos): void {
  positions.set(node, { self });
}

/** Records where entry `key` of map `node` was written. */
export function setKeyPosition(
  node: YamlMap,
  key: string,
  at: { key: SourcePos; value: SourcePos },
): void {
  const info = positions.get(node);
  if (info === undefined) return;
  info.keys ??= new Map();
  info.keys.set(key, at);
}

/** Records where item `index` of list `node` was written. */
export function setItemPosition(node: YamlValue[], index: number, at: SourcePos): void {
  const info = positions.get(node);
  if (info === undefined) return;
  info.items ??= [];
  info.items[index] = at;
}

/** Where map or list `node` was written, if known. */
export function positionOf(node: YamlValue | undefined): SourcePos | undefined {
  return node !== null && typeof node === 'object' ? positions.get(node)?.self : undefined;
}

/** Where entry `key` of `map` was written (its key and its value), if known. */
export function keyPositionOf(
  map: YamlMap,
  key: string,
): { key: SourcePos; value: SourcePos } | undefined {
  return positions.get(map)?.keys?.get(key);
}

/** Copies the position of `from`'s entry `key` to `to`'s entry of the same key. */
export function copyKeyPosition(from: YamlMap, to: YamlMap, key: string): void {
  const at = keyPositionOf(from, key);
  if (at !== undefined) setKeyPosition(to, key, at);
}

/** Whether `value` is a YAML map (not a list, not null). */
export function isYamlMap(value: YamlValue | undefined): value is YamlMap {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The position of the part of `root` at `path` (map keys and list indexes). When the
 * path leads to a missing entry, the position of the deepest part that exists. `target`
 * `key` points at an entry's key (for a misspelt or unknown key), `value` at its value.
 */
export function locate(
  root: YamlValue,
  path: readonly (string | number)[],
  target: 'key' | 'value' = 'value',
): SourcePos | undefined {
  let node: YamlValue | undefined = root;
  let best = positionOf(root);
  for (let i = 0; i < path.length; i++) {
    const step = path[i];
    if (node === null || typeof node !== 'object' || step === undefined) break;
    const last = i === path.length - 1;
    if (Array.isArray(node)) {
      const index = Number(step);
      const at = positions.get(node)?.items?.[index];
      if (at !== undefined) best = at;
      node = node[index];
    } else {
      const key = String(step);
      const at = keyPositionOf(node, key);
      if (at !== undefined) best = last && target === 'key' ? at.key : at.value;
      node = Object.hasOwn(node, key) ? node[key] : undefined;
    }
    if (node !== undefined && node !== null && typeof node === 'object' && !last) {
      best = positionOf(node) ?? best;
    }
  }
  return best;
}

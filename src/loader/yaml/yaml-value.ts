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

/** A file's text as positions refer to it: offsets become lines and columns on demand. */
export interface SourceText {
  file: string;
  /** Line and column (from 1) of a character offset. */
  linePos(offset: number): { line: number; col: number };
}

/** Where a map entry was written: its key and its value. */
interface EntryMarks {
  src: SourceText;
  key: number;
  value: number;
}

/** Where a map or list and its entries were written (offsets, resolved on demand). */
interface NodeMarks {
  src: SourceText;
  self: number;
  keys?: Map<string, EntryMarks>;
  items?: number[];
}

/**
 * Marks live on the maps and lists themselves, under a non-enumerable symbol: invisible
 * to `Object.keys`, spreads, `JSON.stringify`, equality checks and schema validation, and
 * cheaper than a side table.
 */
const MARKS = Symbol('updraft.yamlMarks');

type Marked = { [MARKS]?: NodeMarks };

function marksOf(node: object): NodeMarks | undefined {
  return (node as Marked)[MARKS];
}

function resolve(src: SourceText, offset: number): SourcePos {
  const { line, col } = src.linePos(offset);
  return { file: src.file, line, column: col };
}

/** Records that map or list `node` was written at `offset` of `src`. */
export function markNode(node: YamlMap | YamlValue[], src: SourceText, offset: number): void {
  setMarks(node, { src, self: offset });
}

function setMarks(node: object, marks: NodeMarks): void {
  Object.defineProperty(node, MARKS, { value: marks, writable: true, configurable: true });
}

/** Records where entry `key` of map `node` (marked) was written. */
export function markEntry(
  node: YamlMap,
  key: string,
  keyOffset: number,
  valueOffset: number,
): void {
  const marks = marksOf(node);
  if (marks === undefined) return;
  marks.keys ??= new Map();
  marks.keys.set(key, { src: marks.src, key: keyOffset, value: valueOffset });
}

/** Records where item `index` of list `node` (marked) was written. */
export function markItem(node: YamlValue[], index: number, offset: number): void {
  const marks = marksOf(node);
  if (marks === undefined) return;
  marks.items ??= [];
  marks.items[index] = offset;
}

/** Gives `to` the position of `from` (for a copy or a merge result). */
export function copyNodeMark(from: YamlValue | undefined, to: YamlMap | YamlValue[]): void {
  if (from === null || typeof from !== 'object') return;
  const marks = marksOf(from);
  if (marks !== undefined)
    (to as Marked)[MARKS] = { src: marks.src, self: marks.self, items: marks.items };
}

/** Copies the position of `from`'s entry `key` to `to`'s entry of the same key. */
export function copyEntryMark(from: YamlMap, to: YamlMap, key: string): void {
  const entry = marksOf(from)?.keys?.get(key);
  const marks = marksOf(to);
  if (entry === undefined || marks === undefined) return;
  marks.keys ??= new Map();
  marks.keys.set(key, entry);
}

/** Where map or list `node` was written, if known. */
export function positionOf(node: YamlValue | undefined): SourcePos | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  const marks = marksOf(node);
  return marks === undefined ? undefined : resolve(marks.src, marks.self);
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
    const marks = marksOf(node);
    if (Array.isArray(node)) {
      const index = Number(step);
      const offset = marks?.items?.[index];
      if (marks !== undefined && offset !== undefined) best = resolve(marks.src, offset);
      node = node[index];
    } else {
      const key = String(step);
      const entry = marks?.keys?.get(key);
      if (entry !== undefined) {
        const last = i === path.length - 1;
        best = resolve(entry.src, last && target === 'key' ? entry.key : entry.value);
      }
      node = Object.hasOwn(node, key) ? node[key] : undefined;
    }
  }
  return best;
}

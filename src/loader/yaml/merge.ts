/**
 * The merge rule of YAML pipelines, used for `defaults.yaml` files, `defaults` blocks,
 * templates (`extends`) and environments: maps merge deeply (a key of the later value
 * wins, nested maps are merged key by key), lists and scalars replace. Tasks and groups
 * are maps keyed by id, so they merge by id. Inputs are never changed (parsed files are
 * cached and shared); positions follow the values that win.
 */
import {
  copyEntryMark,
  copyNodeMark,
  isYamlMap,
  type YamlMap,
  type YamlValue,
} from './yaml-value.ts';

/** `over` merged onto `base` (a new map when both are maps; else `over`). */
export function mergeValues(base: YamlValue | undefined, over: YamlValue): YamlValue {
  if (!isYamlMap(base) || !isYamlMap(over)) return over;
  const out: YamlMap = {};
  copyNodeMark(over, out);
  for (const key of Object.keys(base)) {
    out[key] = base[key] ?? null;
    copyEntryMark(base, out, key);
  }
  for (const key of Object.keys(over)) {
    const value = over[key] ?? null;
    out[key] = Object.hasOwn(out, key) ? mergeValues(out[key], value) : value;
    copyEntryMark(over, out, key);
  }
  return out;
}

/** Merges maps from first to last; undefined entries are skipped. */
export function mergeMaps(...layers: (YamlMap | undefined)[]): YamlMap {
  let out: YamlMap = {};
  for (const layer of layers) {
    if (layer === undefined) continue;
    out = mergeValues(out, layer) as YamlMap;
  }
  return out;
}

/** A shallow copy of `map` without `keys`, keeping positions. */
export function omitKeys(map: YamlMap, keys: readonly string[]): YamlMap {
  const out: YamlMap = {};
  copyNodeMark(map, out);
  for (const key of Object.keys(map)) {
    if (keys.includes(key)) continue;
    out[key] = map[key] ?? null;
    copyEntryMark(map, out, key);
  }
  return out;
}

/**
 * Reads the text of a YAML pipeline file into a `YamlValue` with positions, safely.
 *
 * The `yaml` package parses; this module decides what is allowed, so a hostile or broken
 * file is refused with an error naming its line and column, in bounded time and memory:
 * - size: files above `maxBytes` are refused before parsing (checked by the caller on
 *   the file size, and here on the text);
 * - nesting: more than `maxDepth` levels (flow brackets are counted before parsing, since
 *   the parser itself can exhaust memory on very deep flow collections);
 * - aliases: each alias is expanded and every expanded node counts against `maxNodes`,
 *   so "billion laughs" stops after a bounded amount of work;
 * - keys: only string keys; `__proto__`, `constructor` and `prototype` are refused;
 *   duplicate keys are refused (the parser's `uniqueKeys`);
 * - tabs as indentation, several documents in one file, custom tags (`!foo`, `!!set`),
 *   non-finite numbers (`.inf`, `.nan`): refused.
 * String values get `${VAR}` interpolation (see `interpolate.ts`).
 */
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type ParsedNode,
  parseDocument,
  type YAMLError,
} from 'yaml';
import type { SpecIssue } from '../../core/errors.ts';
import { type EnvReads, interpolate } from './interpolate.ts';
import { formatPath } from './yaml-path.ts';
import {
  markEntry,
  markItem,
  markNode,
  type SourcePos,
  type SourceText,
  type YamlMap,
  type YamlValue,
} from './yaml-value.ts';

/** Limits that bound the work one file can cause. */
export interface YamlLimits {
  /** Largest file, in bytes. Default 1 MiB. */
  maxBytes: number;
  /** Deepest nesting of maps and lists. Default 64. */
  maxDepth: number;
  /** Most maps, lists and scalars after aliases are expanded. Default 100 000. */
  maxNodes: number;
}

export const DEFAULT_YAML_LIMITS: YamlLimits = {
  maxBytes: 1024 * 1024,
  maxDepth: 64,
  maxNodes: 100_000,
};

/** Keys that could reach `Object.prototype` in code that merges objects naively. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Tags of the YAML 1.2 core schema; any other explicit tag is refused. */
const CORE_TAGS = new Set(
  ['str', 'int', 'float', 'bool', 'null', 'seq', 'map'].map((t) => `tag:yaml.org,2002:${t}`),
);

/** A parsed file: its value (null when it could not be read) and what was wrong. */
export interface ParsedYaml {
  value: YamlValue;
  issues: SpecIssue[];
  /** Environment variables the file's `${...}` references read. */
  envReads: EnvReads;
}

/** Options of `parseYaml`. */
export interface ParseYamlOptions {
  /** Environment for `${VAR}` interpolation. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  limits?: Partial<YamlLimits>;
}

/** Stops the conversion of a file at its first fatal problem. */
class Refused extends Error {
  constructor(readonly issue: SpecIssue) {
    super(issue.message);
  }
}

/** Parses `text` (the content of `file`). Never throws for what the text contains. */
export function parseYaml(text: string, file: string, options: ParseYamlOptions = {}): ParsedYaml {
  const limits = { ...DEFAULT_YAML_LIMITS, ...options.limits };
  const envReads: EnvReads = new Map();
  const refuse = (message: string, hint?: string, line?: number, column?: number): ParsedYaml => ({
    value: null,
    issues: [{ file, line, column, message, hint }],
    envReads,
  });
  if (text.length > limits.maxBytes) {
    return refuse(
      `the file is ${text.length} characters long, more than the limit of ${limits.maxBytes}`,
      'split it into several pipeline files',
    );
  }
  const tooDeep = deepestFlow(text, limits.maxDepth);
  if (tooDeep !== undefined) {
    const before = text.slice(0, tooDeep);
    return refuse(
      `nesting deeper than ${limits.maxDepth} levels`,
      'flatten the structure; pipeline files never need this depth',
      before.split('\n').length,
      tooDeep - before.lastIndexOf('\n'),
    );
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    uniqueKeys: true,
    prettyErrors: false,
    keepSourceTokens: false,
  });
  const src: SourceText = { file, linePos: (offset) => lineCounter.linePos(offset) };
  const at = (offset: number | undefined): SourcePos => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { file, line, column: col };
  };
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    return {
      value: null,
      issues: problems.slice(0, 10).map((error) => describeParseError(error, at)),
      envReads,
    };
  }
  let nodes = 0;
  const env = options.env ?? process.env;
  /** Path of the node being converted (pushed and popped, copied only for an error). */
  const path: (string | number)[] = [];
  const convert = (node: ParsedNode | Node | null, depth: number): YamlValue => {
    if (node === null) return null;
    if (depth > limits.maxDepth) {
      throw new Refused({
        ...at(node.range?.[0]),
        field: formatPath(path) || undefined,
        message: `nesting deeper than ${limits.maxDepth} levels`,
        hint: 'flatten the structure; pipeline files never need this depth',
      });
    }
    if (++nodes > limits.maxNodes) {
      throw new Refused({
        ...at(node.range?.[0]),
        field: formatPath(path) || undefined,
        message: `the file expands to more than ${limits.maxNodes} values (aliases included)`,
        hint: 'an alias that refers to other aliases multiplies the document: use templates instead',
      });
    }
    if (node.tag !== undefined && !CORE_TAGS.has(node.tag)) {
      throw new Refused({
        ...at(node.range?.[0]),
        field: formatPath(path) || undefined,
        message: `the tag '${node.tag}' is not supported`,
        hint: 'remove the tag: values are plain strings, numbers, booleans, lists and maps',
      });
    }
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (target === undefined) {
        throw new Refused({
          ...at(node.range?.[0]),
          field: formatPath(path) || undefined,
          message: `unknown alias *${node.source}`,
        });
      }
      return convert(target, depth + 1);
    }
    if (isScalar(node)) return scalar(node.value, node.range?.[0]);
    if (isSeq(node)) {
      const list: YamlValue[] = [];
      markNode(list, src, node.range?.[0] ?? 0);
      node.items.forEach((item, i) => {
        const itemNode = item as ParsedNode | null;
        markItem(list, i, itemNode?.range?.[0] ?? node.range?.[0] ?? 0);
        path.push(i);
        list.push(convert(itemNode, depth + 1));
        path.pop();
      });
      return list;
    }
    if (isMap(node)) {
      const map: YamlMap = {};
      markNode(map, src, node.range?.[0] ?? 0);
      for (const pair of node.items) {
        const keyNode = pair.key as ParsedNode | null;
        const key = mapKey(keyNode);
        const valueNode = pair.value as ParsedNode | null;
        markEntry(
          map,
          key,
          keyNode?.range?.[0] ?? 0,
          valueNode?.range?.[0] ?? keyNode?.range?.[1] ?? 0,
        );
        path.push(key);
        map[key] = convert(valueNode, depth + 1);
        path.pop();
      }
      return map;
    }
    throw new Refused({ ...at(undefined), message: 'unsupported YAML node' });
  };
  const mapKey = (keyNode: ParsedNode | null): string => {
    const where = at(keyNode?.range?.[0]);
    if (keyNode === null || !isScalar(keyNode) || typeof keyNode.value !== 'string') {
      const shown =
        keyNode === null
          ? 'an empty key'
          : isScalar(keyNode)
            ? `the key ${String(keyNode.value)} (a ${keyNode.value === null ? 'null' : typeof keyNode.value})`
            : 'a list or map used as a key';
      throw new Refused({
        ...where,
        field: formatPath(path) || undefined,
        message: `${shown}: keys must be strings`,
        hint: isScalar(keyNode)
          ? `quote it: '${String(keyNode?.value)}':`
          : 'use a plain name as the key',
      });
    }
    if (FORBIDDEN_KEYS.has(keyNode.value)) {
      throw new Refused({
        ...where,
        field: formatPath([...path, keyNode.value]),
        message: `the key '${keyNode.value}' is not allowed`,
        hint: 'rename it: __proto__, constructor and prototype are reserved',
      });
    }
    return keyNode.value;
  };
  const scalar = (value: unknown, offset: number | undefined): YamlValue => {
    if (value === null || typeof value === 'boolean') return value;
    if (typeof value === 'number') {
      if (Number.isFinite(value)) return value;
      throw new Refused({
        ...at(offset),
        field: formatPath(path) || undefined,
        message: `${value} is not a number a pipeline can use`,
        hint: 'use a finite number',
      });
    }
    if (typeof value === 'string') {
      const result = interpolate(value, env, envReads);
      if (result.ok) return result.text;
      throw new Refused({
        ...at(offset),
        field: formatPath(path) || undefined,
        message: result.message,
        hint: result.hint,
      });
    }
    throw new Refused({
      ...at(offset),
      field: formatPath(path) || undefined,
      message: `a ${typeof value} value is not supported`,
      hint: 'use a string, number, boolean or null',
    });
  };
  try {
    return { value: convert(doc.contents as ParsedNode | null, 0), issues: [], envReads };
  } catch (error) {
    if (error instanceof Refused) return { value: null, issues: [error.issue], envReads };
    if (error instanceof RangeError) {
      return refuse('the document is nested too deeply to read', 'flatten the structure');
    }
    throw error;
  }
}

/** Messages for the parser's error codes that say what to do. */
const PARSE_HINTS: Record<string, { message?: string; hint: string }> = {
  DUPLICATE_KEY: {
    message: 'duplicate key',
    hint: 'each key may appear once in a map; remove or rename one',
  },
  TAB_AS_INDENT: {
    message: 'a tab is used for indentation',
    hint: 'indent with spaces; YAML does not allow tabs',
  },
  MULTIPLE_DOCS: {
    message: 'the file holds more than one YAML document',
    hint: 'put several DAGs in one document under dags:, or use one file per document',
  },
  TAG_RESOLVE_FAILED: {
    hint: 'remove the tag: values are plain strings, numbers, booleans, lists and maps',
  },
  BAD_ALIAS: { hint: 'define the anchor (&name) before the alias (*name)' },
};

function describeParseError(error: YAMLError, at: (offset: number) => SourcePos): SpecIssue {
  const known = PARSE_HINTS[error.code];
  const firstLine = error.message.split('\n')[0] ?? error.message;
  const message = (known?.message ?? firstLine.replace(/ at line \d+, column \d+:?$/, '')).replace(
    /\.$/,
    '',
  );
  return {
    ...at(error.pos[0]),
    message: message.charAt(0).toLowerCase() + message.slice(1),
    hint: known?.hint ?? 'fix the YAML syntax at this position',
  };
}

/**
 * Offset where flow brackets (`[`, `{`) nest deeper than `limit`, or undefined. Brackets
 * inside quoted strings count too: an over-estimate that only matters for absurd files.
 */
function deepestFlow(text: string, limit: number): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 91 || code === 123) {
      if (++depth > limit) return i;
    } else if ((code === 93 || code === 125) && depth > 0) {
      depth--;
    }
  }
  // Compact nested block sequences (`- - - - x`) nest without brackets.
  const compact = new RegExp(`(?:[-?][ ]+){${limit + 1}}`).exec(text);
  return compact === null ? undefined : compact.index;
}

/**
 * Run parameters: a DAG declares them as a JSON Schema (draft 2020-12, as ajv reads it,
 * with the standard `format`s such as `date` and `email`); a trigger supplies values;
 * defaults fill the gaps. Run parameters come from API and CLI users, so they are
 * checked for size and shape before the schema sees them.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Json, JsonSchema } from './dag-spec.ts';
import { ParamsError, SpecError } from './errors.ts';

/** Largest accepted run parameters, as JSON text: 64 KiB. */
export const MAX_PARAMS_BYTES = 65_536;
/** Deepest accepted nesting of objects and arrays in run parameters. */
export const MAX_PARAMS_DEPTH = 32;
/** Keys refused anywhere in run parameters (prototype pollution). */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Compiled schemas kept, by schema JSON (oldest dropped first). */
const MAX_CACHED_SCHEMAS = 1000;
/** Field name used when the problem is the parameters object as a whole. */
const ROOT = '(root)';

const ajv = new Ajv2020({
  useDefaults: true,
  allErrors: false,
  strictSchema: true,
  strictNumbers: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  allowUnionTypes: true,
});
addFormatsModule.default(ajv);

type Compiled = { validate: ValidateFunction } | { problems: string[] };
const cache = new Map<string, Compiled>();

/**
 * Compiles a DAG's params JSON Schema; returns a list of problems (empty when valid) —
 * the loader reports them as SpecIssues on field 'params'. Checks that the schema
 * describes an object, that ajv accepts it (unknown keywords are typos), and that every
 * default matches its own schema.
 */
export function checkParamsSchema(schema: JsonSchema): string[] {
  const compiled = compile(schema);
  return 'problems' in compiled ? compiled.problems : [];
}

/**
 * Validates run params against the schema, applies defaults, returns the resolved
 * object (a copy; `given` is not changed; undefined means no params). Throws ParamsError
 * naming the first bad field as a dotted path ('limits.max') and what is wrong; rejects
 * non-objects, more than 64 KiB of JSON, nesting deeper than 32, and keys
 * '__proto__'/'constructor'/'prototype'. Throws SpecError when the schema itself is invalid.
 */
export function resolveParams(
  dagId: string,
  schema: JsonSchema,
  given: unknown,
): { [key: string]: Json } {
  const params = checkShape(dagId, given === undefined ? {} : given);
  const compiled = compile(schema);
  if ('problems' in compiled) {
    throw new SpecError(compiled.problems.map((message) => ({ dagId, field: 'params', message })));
  }
  if (!compiled.validate(params)) {
    const error = compiled.validate.errors?.[0];
    if (error === undefined) throw new ParamsError(dagId, ROOT, 'is not valid');
    throw new ParamsError(dagId, errorField(error), errorMessage(error, params));
  }
  return params;
}

/** Checks that `given` is a plain JSON object within the limits; returns a deep copy. */
function checkShape(dagId: string, given: unknown): { [key: string]: Json } {
  if (!isPlainObject(given)) {
    throw new ParamsError(dagId, ROOT, `params must be a JSON object, got ${typeName(given)}`);
  }
  const stack: { value: unknown; path: string; depth: number }[] = [
    { value: given, path: '', depth: 1 },
  ];
  let nodes = 0;
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, path, depth } = item;
    // Every value takes at least one byte of JSON: stop walking huge inputs early.
    if (++nodes > MAX_PARAMS_BYTES) {
      throw new ParamsError(
        dagId,
        ROOT,
        `params exceed ${MAX_PARAMS_BYTES} bytes of JSON (64 KiB)`,
      );
    }
    if (value === null || typeof value === 'string' || typeof value === 'boolean') continue;
    const field = path || ROOT;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) {
        throw new ParamsError(dagId, field, `must be a finite number, got ${value}`);
      }
      continue;
    }
    const isArray = Array.isArray(value);
    if (!isArray && !isPlainObject(value)) {
      throw new ParamsError(
        dagId,
        field,
        `must be JSON (string, number, boolean, null, array or object), got ${typeName(value)}`,
      );
    }
    if (depth > MAX_PARAMS_DEPTH) {
      throw new ParamsError(dagId, field, `params nest deeper than ${MAX_PARAMS_DEPTH} levels`);
    }
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      if (!isArray && FORBIDDEN_KEYS.has(key)) {
        throw new ParamsError(dagId, childPath, `the key '${key}' is not allowed`);
      }
      stack.push({ value: child, path: childPath, depth: depth + 1 });
    }
  }
  const text = JSON.stringify(given);
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_PARAMS_BYTES) {
    throw new ParamsError(
      dagId,
      ROOT,
      `params are ${bytes} bytes of JSON; the limit is ${MAX_PARAMS_BYTES} (64 KiB)`,
    );
  }
  return JSON.parse(text) as { [key: string]: Json };
}

function compile(schema: JsonSchema): Compiled {
  const key = JSON.stringify(schema);
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const compiled = compileUncached(schema);
  if (cache.size >= MAX_CACHED_SCHEMAS) cache.delete(cache.keys().next().value as string);
  cache.set(key, compiled);
  return compiled;
}

function compileUncached(schema: JsonSchema): Compiled {
  if (!isPlainObject(schema)) return { problems: ['the params schema must be a JSON object'] };
  const type = schema.type;
  if (type !== undefined && type !== 'object') {
    return {
      problems: [
        `the params schema must describe an object (type: 'object'), not type ${JSON.stringify(type)}`,
      ],
    };
  }
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(structuredClone(schema));
  } catch (error) {
    return { problems: [`invalid params schema: ${(error as Error).message}`] };
  } finally {
    ajv.removeSchema();
  }
  // Validating an empty object fills in every default: an error below the root is a bad default.
  const empty = {};
  if (!validate(empty)) {
    const bad = (validate.errors ?? []).filter((e) => e.instancePath !== '');
    if (bad.length > 0) {
      return {
        problems: bad.map(
          (e) => `the default of '${errorField(e)}' is invalid: ${errorMessage(e, empty)}`,
        ),
      };
    }
  }
  return { validate };
}

/** Dotted path of the field an ajv error is about (`limits.max`, `rows.0`). */
function errorField(error: ErrorObject): string {
  const parts = error.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  const extra = params.missingProperty ?? params.additionalProperty;
  if (extra !== undefined) parts.push(extra);
  return parts.join('.') || ROOT;
}

function errorMessage(error: ErrorObject, root: unknown): string {
  const params = error.params as { type?: string | string[]; allowedValues?: unknown[] };
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a declared param (the schema does not allow additional properties)';
    case 'type':
      return `must be ${[params.type].flat().join(' or ')}, got ${typeName(valueAt(root, error.instancePath))}`;
    case 'enum':
      return `must be one of ${JSON.stringify(params.allowedValues)}`;
    default:
      return error.message ?? `fails '${error.keyword}'`;
  }
}

function valueAt(root: unknown, pointer: string): unknown {
  let value = root;
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replaceAll('~1', '/').replaceAll('~0', '~');
    value =
      value !== null && typeof value === 'object'
        ? (value as Record<string, unknown>)[key]
        : undefined;
  }
  return value;
}

function isPlainObject(value: unknown): value is { [key: string]: Json } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && Number.isInteger(value)) return 'integer';
  if (typeof value === 'object')
    return isPlainObject(value) ? 'object' : (value.constructor?.name ?? 'object');
  return typeof value;
}

/**
 * Checking a configuration against its TypeBox schema: defaults filled in (on a copy),
 * then validated, with issues that name the field (`env.HOME`) and say what is expected.
 * Operator configs use it (`registry.ts`), and so do load-time task kinds
 * (`sql_models`, in the authoring builder).
 */
import type { TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import type { Json } from '../core/dag-spec.ts';
import type { SpecIssue } from '../core/errors.ts';

/** Compiled checks of config schemas (null: the schema cannot be compiled). */
const compiledChecks = new WeakMap<TSchema, TypeCheck<TSchema> | null>();

function compiledCheck(schema: TSchema): TypeCheck<TSchema> | null {
  let check = compiledChecks.get(schema);
  if (check === undefined) {
    try {
      check = TypeCompiler.Compile(schema);
    } catch {
      check = null;
    }
    compiledChecks.set(schema, check);
  }
  return check;
}

/** A config with its defaults, or what is wrong with it. */
export type ParsedConfig<C> = { ok: true; config: C } | { ok: false; issues: SpecIssue[] };

/** Validates `config` against `schema` and fills its defaults (on a copy). */
export function parseConfig<C = unknown>(
  schema: TSchema,
  config: { [key: string]: Json },
): ParsedConfig<C> {
  const withDefaults = Value.Default(schema, structuredClone(config));
  // The compiled check is fast; the error walk runs only for a config that fails it.
  if (compiledCheck(schema)?.Check(withDefaults)) {
    return { ok: true, config: withDefaults as C };
  }
  const issues: SpecIssue[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(schema, withDefaults)) {
    // TypeBox reports a missing field twice (required, then wrong type): keep the first.
    if (seen.has(error.path)) continue;
    seen.add(error.path);
    issues.push(describeError(error, schema.properties));
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, config: withDefaults as C };
}

function describeError(error: ValueError, properties: unknown): SpecIssue {
  const field = error.path.replace(/^\//, '').replaceAll('/', '.') || undefined;
  const got = error.value === undefined ? '' : ` (got ${JSON.stringify(error.value)})`;
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return { field, message: 'is required' };
    case ValueErrorType.ObjectAdditionalProperties: {
      const known = properties && typeof properties === 'object' ? Object.keys(properties) : [];
      return {
        field,
        message: 'is not a known field',
        hint:
          known.length > 0 ? `known fields: ${known.join(', ')}` : 'this operator takes no config',
      };
    }
    case ValueErrorType.Union: {
      const members = (error.schema.anyOf as TSchema[]).map((member) =>
        member.const === undefined ? String(member.type) : JSON.stringify(member.const),
      );
      return { field, message: `must be one of ${members.join(', ')}${got}` };
    }
    default:
      return {
        field,
        message: error.message.charAt(0).toLowerCase() + error.message.slice(1) + got,
      };
  }
}

/**
 * The operator registry: built-in operators plus those registered by plug-ins, looked up
 * by name by the task runner, and used by the loader to validate task configs.
 */
import type { TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import type { Json } from '../core/dag-spec.ts';
import { formatSpecIssue, type SpecIssue } from '../core/errors.ts';
import { dataOperators } from '../data/operators/index.ts';
import { qualityOperator } from '../quality/quality-operator.ts';
import type { Operator } from './operator.ts';
import { shellOperator } from './shell-operator.ts';
import { triggerDagOperator } from './trigger-dag-operator.ts';
import { tsOperator } from './ts-operator.ts';

const operators = new Map<string, Operator>();

/** Adds an operator. Throws if one with the same name exists. */
export function registerOperator<C>(operator: Operator<C>): void {
  if (operators.has(operator.name)) {
    throw new Error(`an operator named '${operator.name}' is already registered`);
  }
  operators.set(operator.name, operator);
}

registerOperator(tsOperator);
registerOperator(shellOperator);
for (const operator of dataOperators) registerOperator(operator);
registerOperator(qualityOperator);
registerOperator(triggerDagOperator);

/** The operator called `name`, or undefined. */
export function getOperator(name: string): Operator | undefined {
  return operators.get(name);
}

/** Every registered operator, by name. */
export function listOperators(): Operator[] {
  return [...operators.values()].sort((a, b) => a.name.localeCompare(b.name));
}

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

/** Result of checking a task config against its operator's schema. */
export type ParsedOperatorConfig<C> =
  | { ok: true; operator: Operator<C>; config: C }
  | { ok: false; issues: SpecIssue[] };

/**
 * Validates `config` for operator `name` and fills its defaults (on a copy). Issues name
 * the field relative to the config (e.g. `env.HOME`) and say what is expected; an
 * unknown operator is one issue without a field.
 */
export function parseOperatorConfig(
  name: string,
  config: { [key: string]: Json },
): ParsedOperatorConfig<unknown> {
  const operator = operators.get(name);
  if (operator === undefined) {
    const known = listOperators()
      .map((o) => `'${o.name}'`)
      .join(', ');
    return {
      ok: false,
      issues: [{ message: `unknown operator '${name}'`, hint: `known operators: ${known}` }],
    };
  }
  const schema = operator.configSchema;
  const withDefaults = Value.Default(schema, structuredClone(config));
  // The compiled check is fast; the error walk runs only for a config that fails it.
  if (compiledCheck(schema)?.Check(withDefaults)) {
    return { ok: true, operator, config: withDefaults };
  }
  const issues: SpecIssue[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(schema, withDefaults)) {
    // TypeBox reports a missing field twice (required, then wrong type): keep the first.
    if (seen.has(error.path)) continue;
    seen.add(error.path);
    issues.push(describeError(error, schema.properties));
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, operator, config: withDefaults };
}

/** `validateOperatorConfig` as messages (`field 'command': is required`); empty when valid. */
export function validateOperatorConfig(name: string, config: { [key: string]: Json }): string[] {
  const parsed = parseOperatorConfig(name, config);
  return parsed.ok ? [] : parsed.issues.map(formatSpecIssue);
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

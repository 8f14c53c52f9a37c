/**
 * The operator registry: built-in operators plus those registered by plug-ins, looked up
 * by name by the task runner, and used by the loader to validate task configs.
 */
import type { Json } from '../core/dag-spec.ts';
import { formatSpecIssue, type SpecIssue } from '../core/errors.ts';
import { dataOperators } from '../data/operators/index.ts';
import { qualityOperator } from '../quality/quality-operator.ts';
import type { Operator } from './operator.ts';
import { parseConfig } from './parse-config.ts';
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
  const parsed = parseConfig(operator.configSchema, config);
  return parsed.ok ? { ok: true, operator, config: parsed.config } : parsed;
}

/** `validateOperatorConfig` as messages (`field 'command': is required`); empty when valid. */
export function validateOperatorConfig(name: string, config: { [key: string]: Json }): string[] {
  const parsed = parseOperatorConfig(name, config);
  return parsed.ok ? [] : parsed.issues.map(formatSpecIssue);
}

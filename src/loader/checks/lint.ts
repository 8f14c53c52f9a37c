/**
 * `updraft dags lint`: team conventions that a valid DAG may still break. Each rule has
 * a level (`error`, `warn` or `off`) and options, set in `.updraft-lint.yaml` in the
 * pipelines folder (or the file given with `--config`):
 *
 *     rules:
 *       owner-required: error
 *       retries-set: { level: warn, min: 1 }
 *       naming-convention: { level: error, dag: '^[a-z][a-z0-9_]*$', task: '^[a-z][a-z0-9_]*$' }
 *       tags-required: { level: warn, allowed: [sales, finance] }
 *       description-required: off
 *
 * The rules (defaults in brackets):
 * - `owner-required` [error]: the DAG names an owner (not the default `updraft`).
 * - `retries-set` [warn]: every task retries at least `min` times (default 1).
 * - `naming-convention` [error]: DAG ids match `dag`, task ids (each part of a grouped
 *   id) match `task`; both default to snake_case `^[a-z][a-z0-9_]*$`.
 * - `tags-required` [warn]: the DAG has at least one tag; with `allowed`, only those tags.
 * - `description-required` [off]: the DAG has a description.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { didYouMean } from '../../core/closest-match.ts';
import type { DagSpec } from '../../core/dag-spec.ts';
import { type SpecIssue, UpdraftError } from '../../core/errors.ts';
import type { Finding, Severity } from './check-pipelines.ts';

/** Name of the lint configuration file in the pipelines folder. */
export const LINT_CONFIG_FILE = '.updraft-lint.yaml';

/** A rule's level: what a finding of it is, or `off`. */
export type LintLevel = 'error' | 'warn' | 'off';

interface RuleSettings {
  level: LintLevel;
  [option: string]: unknown;
}

/** A DAG to lint, with a function that points a finding at its source. */
export interface LintDag {
  spec: DagSpec;
  locate: (issue: SpecIssue) => SpecIssue;
}

type Report = (issue: SpecIssue) => void;

interface LintRule {
  /** What the rule checks, for `--help` and docs. */
  description: string;
  defaults: RuleSettings;
  check(spec: DagSpec, settings: RuleSettings, report: Report): void;
}

const SNAKE_CASE = '^[a-z][a-z0-9_]*$';

/** Every lint rule, by name. */
export const LINT_RULES: Record<string, LintRule> = {
  'owner-required': {
    description: "the DAG names an owner (not the default 'updraft')",
    defaults: { level: 'error' },
    check(spec, _settings, report) {
      if (spec.owner === 'updraft' || spec.owner.trim() === '') {
        report({
          field: 'owner',
          message: 'the DAG has no owner',
          hint: 'set owner: <team or person>',
        });
      }
    },
  },
  'retries-set': {
    description: 'every task retries at least `min` times (default 1)',
    defaults: { level: 'warn', min: 1 },
    check(spec, settings, report) {
      const min = Number(settings.min ?? 1);
      for (const task of spec.tasks) {
        if (task.retries >= min) continue;
        report({
          taskId: task.taskId,
          field: `tasks.${task.taskId}.retries`,
          message: `task retries ${task.retries} time(s), fewer than ${min}`,
          hint: `set retries: ${min} on the task, or in taskDefaults`,
        });
      }
    },
  },
  'naming-convention': {
    description:
      'DAG ids match `dag` and task ids match `task` (regular expressions; snake_case by default)',
    defaults: { level: 'error', dag: SNAKE_CASE, task: SNAKE_CASE },
    check(spec, settings, report) {
      const dagPattern = new RegExp(String(settings.dag ?? SNAKE_CASE));
      const taskPattern = new RegExp(String(settings.task ?? SNAKE_CASE));
      if (!dagPattern.test(spec.dagId)) {
        report({
          field: 'dagId',
          message: `dag id '${spec.dagId}' does not match ${dagPattern.source}`,
        });
      }
      for (const task of spec.tasks) {
        const bad = task.taskId.split('.').find((part) => !taskPattern.test(part));
        if (bad === undefined) continue;
        report({
          taskId: task.taskId,
          field: `tasks.${task.taskId}.taskId`,
          message: `task id '${task.taskId}' does not match ${taskPattern.source} ('${bad}')`,
        });
      }
    },
  },
  'tags-required': {
    description: 'the DAG has at least one tag; with `allowed`, only tags from that list',
    defaults: { level: 'warn' },
    check(spec, settings, report) {
      if (spec.tags.length === 0) {
        report({
          field: 'tags',
          message: 'the DAG has no tags',
          hint: 'add tags: [<team>, <domain>]',
        });
      }
      const allowed = Array.isArray(settings.allowed) ? settings.allowed.map(String) : undefined;
      if (allowed === undefined) return;
      spec.tags.forEach((tag, i) => {
        if (allowed.includes(tag)) return;
        report({
          field: `tags.${i}`,
          message: `tag '${tag}' is not one of the allowed tags`,
          hint: didYouMean(tag, allowed, `allowed: ${allowed.join(', ')}`),
        });
      });
    },
  },
  'description-required': {
    description: 'the DAG has a description',
    defaults: { level: 'off' },
    check(spec, _settings, report) {
      if (spec.description === null || spec.description.trim() === '') {
        report({
          field: 'description',
          message: 'the DAG has no description',
          hint: 'add description: <one line>',
        });
      }
    },
  },
};

/** The settings of every rule: defaults with the configuration on top. */
export type LintConfig = Record<string, RuleSettings>;

/**
 * Reads the lint configuration: `file` if given (it must exist), else
 * `<pipelinesDir>/.updraft-lint.yaml` if it exists, else the defaults. Unknown rules and
 * levels are errors naming the closest rule.
 */
export async function readLintConfig(pipelinesDir: string, file?: string): Promise<LintConfig> {
  const configFile = file ?? path.join(pipelinesDir, LINT_CONFIG_FILE);
  let text: string | undefined;
  try {
    text = await readFile(configFile, 'utf8');
  } catch (error) {
    if (file !== undefined || (error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new UpdraftError(
        'lint_config',
        `cannot read the lint configuration ${configFile}: ${(error as Error).message}`,
      );
    }
  }
  const config: LintConfig = Object.fromEntries(
    Object.entries(LINT_RULES).map(([name, rule]) => [name, { ...rule.defaults }]),
  );
  if (text === undefined) return config;
  const bad = (message: string) => new UpdraftError('lint_config', `${configFile}: ${message}`);
  let parsed: unknown;
  try {
    parsed = parse(text, { maxAliasCount: 10 });
  } catch (error) {
    throw bad((error as Error).message);
  }
  const rules = (parsed as { rules?: unknown } | null)?.rules ?? {};
  if (typeof rules !== 'object' || rules === null || Array.isArray(rules))
    throw bad('rules must be a map of rule names to levels');
  for (const [name, value] of Object.entries(rules)) {
    const rule = config[name];
    if (rule === undefined) {
      throw bad(
        `unknown lint rule '${name}' (${didYouMean(name, Object.keys(LINT_RULES), `rules: ${Object.keys(LINT_RULES).join(', ')}`)})`,
      );
    }
    const settings =
      typeof value === 'string' ? { level: value } : (value as Record<string, unknown>);
    if (
      typeof settings !== 'object' ||
      settings === null ||
      !['error', 'warn', 'off'].includes(String(settings.level ?? rule.level))
    ) {
      throw bad(`rule '${name}': level must be error, warn or off`);
    }
    config[name] = { ...rule, ...settings } as RuleSettings;
  }
  return config;
}

/** Lints `dags` with `config`; findings are errors or warnings by the rule's level. */
export function lintDags(dags: readonly LintDag[], config: LintConfig): Finding[] {
  const findings: Finding[] = [];
  for (const [name, rule] of Object.entries(LINT_RULES)) {
    const settings = config[name] ?? rule.defaults;
    if (settings.level === 'off') continue;
    const severity: Severity = settings.level === 'error' ? 'error' : 'warning';
    for (const dag of dags) {
      rule.check(dag.spec, settings, (issue) =>
        findings.push({ ...dag.locate({ dagId: dag.spec.dagId, ...issue }), severity, rule: name }),
      );
    }
  }
  return findings;
}

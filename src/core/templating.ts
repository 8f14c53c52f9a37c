/**
 * Run-time templates in operator config strings, rendered in the worker just before a
 * task runs. Deliberately tiny and code-free: a template can read variables, never run
 * anything.
 *
 * Syntax, inside `{{ ... }}` (spaces optional):
 * - a dotted path: `{{ ds }}`, `{{ params.limit }}`, `{{ upstream.extract.rows }}`;
 *   array elements by number (`rows.0` or `rows[0]`), keys with dots or other characters
 *   in brackets (`upstream['group.extract'].rows`);
 * - or a string literal: `{{ '{{' }}` renders `{{` — the way to write a literal `{{`;
 * - then filters, left to right: `| json` (JSON text, strings quoted), `| upper`,
 *   `| lower`, `| default('x')` (used when the value is missing or null; also takes a
 *   number, true, false or null).
 * Strings render as they are; numbers, booleans, null, arrays and objects as JSON.
 * A variable that does not exist (and has no `default`) is an error naming it and the
 * names available.
 */
import type { AttemptContext, AttemptKey } from '../executor/executor.ts';
import type { Json } from './dag-spec.ts';

/** The variables a template can read, by top-level name. */
export type TemplateVars = { [name: string]: Json };

/** A template that cannot be parsed or reads a variable that does not exist. */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** Renders the `{{ ... }}` expressions of `text`. Throws `TemplateError`. */
export function renderTemplate(text: string, vars: TemplateVars): string {
  if (!text.includes('{{')) return text;
  return parseTemplate(text)
    .map((part) => (typeof part === 'string' ? part : renderValue(evaluate(part, vars, text))))
    .join('');
}

/**
 * Renders every string inside a JSON config (deeply); non-strings and keys are kept.
 * Returns a new value; a `TemplateError` names the config field at fault.
 */
export function renderConfig<T extends Json>(config: T, vars: TemplateVars): T {
  return renderJson(config, vars, '') as T;
}

/** The top-level variable names a template reads, in order of first use. Throws on bad syntax. */
export function findTemplateVariables(text: string): string[] {
  if (!text.includes('{{')) return [];
  const names = new Set<string>();
  for (const part of parseTemplate(text)) {
    if (typeof part !== 'string' && part.source.kind === 'path') names.add(part.source.root);
  }
  return [...names];
}

/**
 * Template variables of an attempt: ds (YYYY-MM-DD of the logical date in UTC),
 * ds_nodash, ts (ISO), logical_date, data_interval_start, data_interval_end, run_id,
 * dag_id, task_id, try_number, run_type, params, upstream (results of the direct
 * upstream tasks by task id).
 */
export function templateVariables(key: AttemptKey, context: AttemptContext): TemplateVars {
  const logicalDate = isoInstant(context.logicalDate, 'logicalDate');
  const ds = logicalDate.slice(0, 10);
  return {
    ds,
    ds_nodash: ds.replaceAll('-', ''),
    ts: logicalDate,
    logical_date: logicalDate,
    data_interval_start: isoInstant(context.dataIntervalStart, 'dataIntervalStart'),
    data_interval_end: isoInstant(context.dataIntervalEnd, 'dataIntervalEnd'),
    run_id: key.runId,
    dag_id: key.dagId,
    task_id: key.taskId,
    try_number: key.tryNumber,
    run_type: context.runType,
    params: context.params,
    upstream: context.upstreamResults,
    inputs: context.inputs ?? {},
    map_index: key.mapIndex,
    ...(context.mapItem === undefined ? {} : { item: context.mapItem }),
  };
}

// ---------------------------------------------------------------------------------------

type Segment = string | number;
type Source = { kind: 'path'; root: string; path: Segment[] } | { kind: 'literal'; value: Json };
type Filter = { name: 'json' | 'upper' | 'lower' } | { name: 'default'; fallback: Json };
interface Expression {
  source: Source;
  filters: Filter[];
  /** The `{{ ... }}` text, for error messages. */
  text: string;
}

const FILTERS = ['json', 'upper', 'lower', 'default'] as const;

function renderJson(value: Json, vars: TemplateVars, field: string): Json {
  if (typeof value === 'string') {
    try {
      return renderTemplate(value, vars);
    } catch (error) {
      if (!(error instanceof TemplateError) || field === '') throw error;
      throw new TemplateError(`config field '${field}': ${error.message}`);
    }
  }
  if (Array.isArray(value)) return value.map((item, i) => renderJson(item, vars, `${field}[${i}]`));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, renderJson(v, vars, field ? `${field}.${k}` : k)]),
  );
}

function renderValue(value: Json): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function evaluate(expr: Expression, vars: TemplateVars, template: string): Json {
  let value: Json | undefined;
  let missing = '';
  if (expr.source.kind === 'literal') {
    value = expr.source.value;
  } else {
    [value, missing] = lookup(expr.source, vars);
  }
  for (const filter of expr.filters) {
    if (filter.name === 'default') {
      if (value === undefined || value === null) value = filter.fallback;
      continue;
    }
    if (value === undefined) continue;
    value =
      filter.name === 'json'
        ? JSON.stringify(value)
        : filter.name === 'upper'
          ? renderValue(value).toUpperCase()
          : renderValue(value).toLowerCase();
  }
  if (value === undefined) throw new TemplateError(`${missing} in ${quote(expr.text, template)}`);
  return value;
}

/** Follows a path; returns the value, or undefined and why it is missing. */
function lookup(
  source: { root: string; path: Segment[] },
  vars: TemplateVars,
): [Json | undefined, string] {
  if (!Object.hasOwn(vars, source.root)) {
    const names = Object.keys(vars).sort().join(', ');
    return [
      undefined,
      `unknown template variable '${source.root}' (available: ${names || 'none'})`,
    ];
  }
  let value: Json | undefined = vars[source.root];
  let where = source.root;
  for (const segment of source.path) {
    const next = child(value, segment);
    if (next === undefined) {
      return [
        undefined,
        `template variable '${where}' has no ${describeSegment(segment)} (${describeKeys(value)})`,
      ];
    }
    value = next;
    where += typeof segment === 'number' ? `[${segment}]` : `.${segment}`;
  }
  return [value, ''];
}

function child(value: Json | undefined, segment: Segment): Json | undefined {
  if (Array.isArray(value)) {
    const index = typeof segment === 'number' ? segment : Number.NaN;
    return Number.isInteger(index) && index < value.length ? value[index] : undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const key = String(segment);
  return Object.hasOwn(value, key) ? value[key] : undefined;
}

function describeSegment(segment: Segment): string {
  return typeof segment === 'number' ? `element ${segment}` : `key '${segment}'`;
}

function describeKeys(value: Json | undefined): string {
  if (Array.isArray(value)) return `it is an array of ${value.length}`;
  if (value === null || typeof value !== 'object') return `it is ${JSON.stringify(value)}`;
  const keys = Object.keys(value).sort();
  return keys.length === 0 ? 'it is an empty object' : `keys: ${keys.join(', ')}`;
}

function quote(expression: string, template: string): string {
  return expression === template ? `'${expression}'` : `'${expression}' of '${clip(template)}'`;
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Splits a template into literal text and expressions. */
function parseTemplate(text: string): (string | Expression)[] {
  const parts: (string | Expression)[] = [];
  let pos = 0;
  for (let open = text.indexOf('{{', pos); open !== -1; open = text.indexOf('{{', pos)) {
    if (open > pos) parts.push(text.slice(pos, open));
    const parser = new ExpressionParser(text, open + 2);
    const { source, filters } = parser.expression();
    pos = parser.end;
    parts.push({ source, filters, text: text.slice(open, pos) });
  }
  if (pos < text.length) parts.push(text.slice(pos));
  return parts;
}

/** Recursive-descent parser of one expression, from just after `{{` to just after `}}`. */
class ExpressionParser {
  constructor(
    private readonly text: string,
    private pos: number,
  ) {}

  get end(): number {
    return this.pos;
  }

  expression(): { source: Source; filters: Filter[] } {
    const source = this.source();
    const filters: Filter[] = [];
    while (this.eat('|')) filters.push(this.filter());
    if (!this.eat('}}')) this.fail(`expected '|' or '}}'`);
    return { source, filters };
  }

  private source(): Source {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === "'" || c === '"') return { kind: 'literal', value: this.string() };
    const root = this.identifier('a variable name or a string literal');
    const path: Segment[] = [];
    for (;;) {
      if (this.text[this.pos] === '.') {
        this.pos++;
        const digits = this.match(/\d+/y);
        path.push(digits === null ? this.identifier('a key after "."') : Number(digits));
      } else if (this.text[this.pos] === '[') {
        this.pos++;
        this.skipSpace();
        const digits = this.match(/\d+/y);
        const c = this.text[this.pos];
        if (digits === null && c !== "'" && c !== '"')
          this.fail(`expected a number or a quoted key after '['`);
        path.push(digits === null ? this.string() : Number(digits));
        if (!this.eat(']')) this.fail(`expected ']'`);
      } else {
        return { kind: 'path', root, path };
      }
    }
  }

  private filter(): Filter {
    const name = this.identifier('a filter name');
    if (name === 'json' || name === 'upper' || name === 'lower') return { name };
    if (name !== 'default') this.fail(`unknown filter '${name}' (filters: ${FILTERS.join(', ')})`);
    if (!this.eat('(')) this.fail(`expected '(' after default`);
    const fallback = this.literal();
    if (!this.eat(')')) this.fail(`expected ')'`);
    return { name, fallback };
  }

  private literal(): Json {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === "'" || c === '"') return this.string();
    const word = this.match(/-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y);
    if (word === null) this.fail('expected a string, number, true, false or null');
    return JSON.parse(word) as Json;
  }

  /** A quoted string; backslash escapes the next character. */
  private string(): string {
    const quoteChar = this.text[this.pos];
    let value = '';
    for (let i = this.pos + 1; i < this.text.length; i++) {
      const c = this.text[i];
      if (c === quoteChar) {
        this.pos = i + 1;
        return value;
      }
      if (c === '\\') i++;
      value += this.text[i] ?? '';
    }
    return this.fail('unterminated string');
  }

  private identifier(what: string): string {
    this.skipSpace();
    return this.match(/[A-Za-z_][\w-]*/y) ?? this.fail(`expected ${what}`);
  }

  private eat(token: string): boolean {
    this.skipSpace();
    if (!this.text.startsWith(token, this.pos)) return false;
    this.pos += token.length;
    return true;
  }

  private match(pattern: RegExp): string | null {
    pattern.lastIndex = this.pos;
    const m = pattern.exec(this.text);
    if (m === null) return null;
    this.pos += m[0].length;
    return m[0];
  }

  private skipSpace(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  private fail(message: string): never {
    const at = this.pos >= this.text.length ? 'end of text' : `offset ${this.pos}`;
    throw new TemplateError(`template syntax error at ${at}: ${message} in '${clip(this.text)}'`);
  }
}

function isoInstant(value: string, field: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new TemplateError(`${field} '${value}' is not an ISO 8601 date-time`);
  return new Date(ms).toISOString();
}

/**
 * Parsers for option and argument values. Malformed values are usage errors (exit 2,
 * through commander's `InvalidArgumentError`), except JSON documents such as
 * `--params`, which are input (exit 1) and get the position of the fault.
 */
import { InvalidArgumentError } from 'commander';
import type { Json } from '../core/dag-spec.ts';
import { UpdraftError } from '../core/errors.ts';

/** A whole number >= `min` (default 1). */
export function integerArg(min = 1): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min) {
      throw new InvalidArgumentError(`expected a whole number >= ${min}, got '${text}'`);
    }
    return value;
  };
}

/**
 * An ISO 8601 date or date-time (`2024-05-01`, `2024-05-01T02:00:00Z`), returned as an
 * ISO string in UTC. A date-time without offset is read in local time, as ISO says.
 */
export function isoDateArg(text: string): string {
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim()) || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError(
      `expected an ISO 8601 date such as 2024-05-01 or 2024-05-01T02:00:00Z, got '${text}'`,
    );
  }
  return date.toISOString();
}

/** One of the listed words. */
export function choiceArg<const T extends string>(choices: readonly T[]): (text: string) => T {
  return (text) => {
    const found = choices.find((c) => c === text);
    if (found === undefined) {
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got '${text}'`);
    }
    return found;
  };
}

/**
 * Parses a JSON document given on the command line; on a syntax error, throws an
 * `UpdraftError` (exit 1) naming the option and the line and column at fault.
 */
export function parseJsonOption(option: string, text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (error) {
    const reason = (error as Error).message;
    const match = /at position (\d+)/.exec(reason);
    const atEnd = /end of JSON input/.test(reason);
    let where = '';
    if (match || atEnd) {
      const position = match ? Number(match[1]) : text.length;
      const before = text.slice(0, position);
      const line = before.split('\n').length;
      const column = position - before.lastIndexOf('\n');
      where = ` at position ${position} (line ${line}, column ${column})`;
    }
    const what = reason.replace(/ in JSON at position \d+.*$/, '').replace(/ of JSON input$/, '');
    throw new UpdraftError(
      'invalid_json',
      `${option} is not valid JSON: ${what}${where}; example: ${option} '{"limit": 10}'`,
    );
  }
}

/** The pure parts of the CLI's output and input handling. */
import { describe, expect, it } from 'vitest';
import { formatLogLine } from '../../src/cli/log-format.ts';
import { formatTable, humanDuration, isoTime, type Paint } from '../../src/cli/output.ts';
import { parseJsonOption } from '../../src/cli/parse.ts';
import { UpdraftError } from '../../src/core/errors.ts';

const plain: Paint = (_colour, text) => text;
const ansi: Paint = (_colour, text) => `\x1b[31m${text}\x1b[39m`;

describe('formatTable', () => {
  it('aligns columns by visible width, colour codes included', () => {
    const rows = [
      ['a', ansi('red', 'failed'), 'x'],
      ['longer', 'ok', 'y'],
    ];
    const lines = formatTable(['name', 'state', 'note'], rows, plain)
      .split('\n')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: strips colour codes
      .map((l) => l.replace(/\x1b\[\d+m/g, ''));
    expect(lines).toEqual(['NAME    STATE   NOTE', 'a       failed  x', 'longer  ok      y']);
  });
});

describe('times and durations', () => {
  it('prints ISO times without milliseconds and - for none', () => {
    expect(isoTime('2024-05-01T02:00:00.123Z')).toBe('2024-05-01T02:00:00Z');
    expect(isoTime(null)).toBe('-');
  });

  it('prints durations at a readable precision', () => {
    expect(humanDuration(850)).toBe('850ms');
    expect(humanDuration(12_340)).toBe('12.3s');
    expect(humanDuration(245_000)).toBe('4m05s');
    expect(humanDuration(7_380_000)).toBe('2h03m');
  });
});

describe('formatLogLine', () => {
  it('prints an attempt log record as time, level, message and its own fields', () => {
    const line = JSON.stringify({
      time: '2024-05-01T02:00:03.120Z',
      level: 'info',
      msg: 'loaded rows',
      dag_id: 'etl',
      run_id: 'r',
      task_id: 'load',
      map_index: -1,
      try_number: 1,
      rows: 3,
      table: 'daily sales',
    });
    expect(formatLogLine(line, plain)).toBe(
      '2024-05-01T02:00:03.120Z INFO  loaded rows rows=3 table="daily sales"',
    );
  });

  it('reads pino records (numeric levels, epoch times) and keeps other lines as they are', () => {
    const pinoLine = JSON.stringify({ level: 50, time: 0, msg: 'tick failed', pid: 1 });
    expect(formatLogLine(pinoLine, plain)).toBe('1970-01-01T00:00:00.000Z ERROR tick failed');
    expect(formatLogLine('plain text', plain)).toBe('plain text');
    expect(formatLogLine('[1,2]', plain)).toBe('[1,2]');
  });

  it('prints an error stack on lines of its own', () => {
    const line = JSON.stringify({
      level: 'error',
      msg: 'failed',
      error: { message: 'x', stack: 'Error: x\n    at f' },
    });
    expect(formatLogLine(line, plain)).toBe('ERROR failed error=\nError: x\n    at f');
  });
});

describe('parseJsonOption', () => {
  it('parses JSON', () => {
    expect(parseJsonOption('--params', '{"a": [1]}')).toEqual({ a: [1] });
  });

  it('names the option, position, line and column of a syntax error', () => {
    const error = (() => {
      try {
        parseJsonOption('--params', '{\n  "a": 1,\n}');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UpdraftError);
    expect((error as UpdraftError).code).toBe('invalid_json');
    expect((error as Error).message).toMatch(
      /^--params is not valid JSON: .* at position 12 \(line 3, column 1\)/,
    );
  });

  it('points at the end of truncated input', () => {
    expect(() => parseJsonOption('--params', '{"a": ')).toThrow(
      /Unexpected end at position 6 \(line 1, column 7\)/,
    );
  });
});

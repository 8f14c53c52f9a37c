/**
 * Hostile and broken YAML is refused with an error naming the line and column, in
 * bounded time and memory (the test timeout bounds the time; nothing here may hang or
 * exhaust memory), and never changes `Object.prototype`.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYaml } from '../../../src/loader/yaml/parse-yaml.ts';
import { allIssues, loadOne, yamlFolder } from './helpers.ts';

/** Nine aliases of nine aliases ... nine levels deep: 9^9 strings when expanded. */
function billionLaughs(): string {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let level = 1; level < 9; level++) {
    const name = String.fromCharCode(97 + level);
    const previous = String.fromCharCode(96 + level);
    lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
  }
  return `${lines.join('\n')}\n`;
}

describe('hostile YAML', () => {
  it('stops an alias bomb after a bounded number of values', () => {
    const { value, issues } = parseYaml(billionLaughs(), 'bomb.yaml');
    expect(value).toBeNull();
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ file: 'bomb.yaml', line: expect.any(Number) });
    expect(issues[0]?.message).toMatch(/expands to more than 100000 values/);
    expect(issues[0]?.hint).toMatch(/alias/);
  });

  it('refuses very deep flow nesting before the parser sees it', () => {
    const text = `dags: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
    const { issues } = parseYaml(text, 'deep.yaml');
    expect(issues[0]).toMatchObject({
      line: 1,
      column: 71,
      message: 'nesting deeper than 64 levels',
    });
  });

  it('refuses deep nesting of compact block lists and of block maps', () => {
    expect(parseYaml(`${'- '.repeat(50_000)}x\n`, 'f.yaml').issues[0]?.message).toBe(
      'nesting deeper than 64 levels',
    );
    const blocks = Array.from({ length: 80 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n');
    const issue = parseYaml(`${blocks} 1\n`, 'f.yaml').issues[0];
    expect(issue?.message).toBe('nesting deeper than 64 levels');
    expect(issue?.line).toBe(66);
    expect(issue?.field).toMatch(/^k0\.k1\.k2/);
  });

  it('refuses a file above the size limit without reading it', async () => {
    const folder = await yamlFolder({}, { limits: { maxBytes: 1024 } });
    await writeFile(path.join(folder.dir, 'huge.yaml'), `dags: {}\n# ${'x'.repeat(5000)}\n`);
    const [result] = await folder.load('huge.yaml');
    expect(result?.issues[0]?.message).toMatch(/is 5\d{3} bytes, more than the limit of 1024/);
    expect(folder.source.parsedCount).toBe(0);
  });

  it('refuses __proto__, constructor and prototype keys anywhere', async () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const result = await loadOne(
        `dags:\n  d:\n    tasks:\n      t:\n        operator: shell\n        config:\n          ${key}: { polluted: true }\n`,
      );
      expect(allIssues(result)).toEqual([
        expect.objectContaining({
          line: 7,
          column: 11,
          field: `dags.d.tasks.t.config.${key}`,
          message: `the key '${key}' is not allowed`,
        }),
      ]);
      expect(result.dags).toEqual([]);
    }
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('refuses duplicate keys', () => {
    const { issues } = parseYaml('dags:\n  a: {}\n  a: {}\n', 'f.yaml');
    expect(issues[0]).toMatchObject({ line: 3, column: 3, message: 'duplicate key' });
  });

  it('refuses keys that are not strings, saying how to quote them', () => {
    const cases: [string, string][] = [
      ['1: x\n', 'the key 1 (a number): keys must be strings'],
      ['true: x\n', 'the key true (a boolean): keys must be strings'],
      ['~: x\n', 'the key null (a null): keys must be strings'],
      ['? [a, b]\n: x\n', 'a list or map used as a key: keys must be strings'],
    ];
    for (const [text, message] of cases) {
      expect(parseYaml(text, 'f.yaml').issues[0]).toMatchObject({ line: 1, message });
    }
    expect(parseYaml('1: x\n', 'f.yaml').issues[0]?.hint).toBe("quote it: '1':");
  });

  it('refuses tabs used for indentation', () => {
    const { issues } = parseYaml('dags:\n\td: {}\n', 'f.yaml');
    expect(issues[0]).toMatchObject({
      line: 2,
      message: 'a tab is used for indentation',
      hint: 'indent with spaces; YAML does not allow tabs',
    });
  });

  it('refuses custom tags, non-finite numbers and several documents', () => {
    expect(parseYaml('a: !!set {x}\n', 'f.yaml').issues[0]?.message).toMatch(
      /tag .* is not supported/,
    );
    expect(parseYaml('a: !js/function x\n', 'f.yaml').issues[0]?.message).toMatch(/tag/);
    expect(parseYaml('a: .inf\n', 'f.yaml').issues[0]).toMatchObject({
      line: 1,
      column: 4,
      field: 'a',
      message: 'Infinity is not a number a pipeline can use',
    });
    expect(parseYaml('a: 1\n---\nb: 2\n', 'f.yaml').issues[0]?.message).toBe(
      'the file holds more than one YAML document',
    );
  });

  it('reports a syntax error at its line and an unknown alias', () => {
    expect(parseYaml('a: [1, 2\n', 'f.yaml').issues[0]).toMatchObject({ line: 2 });
    expect(parseYaml('a: *nothing\n', 'f.yaml').issues[0]?.message).toMatch(/alias/);
  });

  it('keeps loading the other files when one is hostile', async () => {
    const folder = await yamlFolder({
      'bomb.yaml': billionLaughs(),
      'good.yaml':
        'dags:\n  good:\n    tasks:\n      t: { operator: shell, config: { command: "true" } }\n',
    });
    const [bomb, good] = await folder.load('bomb.yaml', 'good.yaml');
    expect(bomb?.issues).toHaveLength(1);
    expect(good?.issues).toEqual([]);
    expect(good?.dags.map((d) => d.spec.dagId)).toEqual(['good']);
  });
});

describe('broken templates and references', () => {
  it('locates a template that extends itself at its extends', async () => {
    const result = await loadOne(
      'templates:\n  loop:\n    operator: shell\n    extends: loop\ndags:\n  d:\n    tasks:\n      t: { extends: loop }\n',
    );
    expect(result.issues).toEqual([
      expect.objectContaining({
        line: 4,
        column: 14,
        field: 'templates.loop.extends',
        message: "template 'loop' extends itself",
      }),
    ]);
    expect(result.dags).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import type { JsonSchema } from '../../src/core/dag-spec.ts';
import { ParamsError, SpecError } from '../../src/core/errors.ts';
import { checkParamsSchema, resolveParams } from '../../src/core/params.ts';

const schema: JsonSchema = {
  type: 'object',
  properties: {
    table: { type: 'string', default: 'orders' },
    day: { type: 'string', format: 'date' },
    mode: { enum: ['full', 'incremental'], default: 'incremental' },
    limits: {
      type: 'object',
      properties: {
        max: { type: 'integer', maximum: 1000, default: 100 },
        min: { type: 'integer' },
      },
      default: {},
    },
    tags: { type: 'array', items: { type: 'string' } },
  },
  required: ['day'],
  additionalProperties: false,
};

/** The ParamsError thrown by `fn`, to look at its field and message. */
function paramsError(fn: () => unknown): ParamsError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ParamsError) return error;
    throw error;
  }
  throw new Error('expected a ParamsError');
}

describe('resolveParams', () => {
  it('applies defaults, nested ones too', () => {
    expect(resolveParams('etl', schema, { day: '2026-01-02' })).toEqual({
      day: '2026-01-02',
      table: 'orders',
      mode: 'incremental',
      limits: { max: 100 },
    });
    expect(resolveParams('etl', schema, { day: '2026-01-02', limits: { max: 5 } }).limits).toEqual({
      max: 5,
    });
  });

  it('does not change the given object', () => {
    const given = { day: '2026-01-02' };
    resolveParams('etl', schema, given);
    expect(given).toEqual({ day: '2026-01-02' });
  });

  it('treats missing params as an empty object', () => {
    expect(resolveParams('etl', {}, undefined)).toEqual({});
    expect(
      resolveParams('etl', { properties: { n: { type: 'number', default: 1 } } }, undefined),
    ).toEqual({ n: 1 });
  });

  it.each([
    [{ day: '2026-01-02', limits: { max: 'ten' } }, 'limits.max', 'must be integer, got string'],
    [{ day: '2026-01-02', limits: { max: 5000 } }, 'limits.max', 'must be <= 1000'],
    [{ day: '2026-01-02', limits: { max: 1.5 } }, 'limits.max', 'must be integer, got number'],
    [{ day: '2026-13-45' }, 'day', 'must match format "date"'],
    [{}, 'day', 'is required'],
    [{ day: '2026-01-02', mode: 'partial' }, 'mode', 'must be one of ["full","incremental"]'],
    [{ day: '2026-01-02', tags: ['a', 3] }, 'tags.1', 'must be string, got integer'],
    [{ day: '2026-01-02', extra: 1 }, 'extra', 'is not a declared param'],
  ])('rejects %j naming field %s', (given, field, message) => {
    const error = paramsError(() => resolveParams('etl', schema, given));
    expect(error.field).toBe(field);
    expect(error.dagId).toBe('etl');
    expect(error.code).toBe('params_invalid');
    expect(error.message).toContain(`dag 'etl': param '${field}': ${message}`);
  });

  it.each([
    [null, 'params must be a JSON object, got null'],
    [[1, 2], 'params must be a JSON object, got array'],
    ['day=2026-01-02', 'params must be a JSON object, got string'],
    [42, 'params must be a JSON object, got integer'],
    [new Date(0), 'params must be a JSON object, got Date'],
  ])('rejects the non-object %j', (given, message) => {
    const error = paramsError(() => resolveParams('etl', schema, given));
    expect(error.field).toBe('(root)');
    expect(error.message).toContain(message);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('rejects the key %s at any depth', (key) => {
    const top = JSON.parse(`{"${key}": {"polluted": true}}`) as unknown;
    expect(paramsError(() => resolveParams('etl', {}, top)).field).toBe(key);
    const deep = JSON.parse(`{"a": {"b": [{"${key}": 1}]}}`) as unknown;
    const error = paramsError(() => resolveParams('etl', {}, deep));
    expect(error.field).toBe(`a.b.0.${key}`);
    expect(error.message).toContain(`the key '${key}' is not allowed`);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('rejects more than 64 KiB of JSON', () => {
    const big = { blob: 'x'.repeat(65_536) };
    expect(paramsError(() => resolveParams('etl', {}, big)).message).toMatch(
      /params are 65\d{3} bytes of JSON; the limit is 65536 \(64 KiB\)/,
    );
    const wide = { items: Array.from({ length: 70_000 }, () => 0) };
    expect(paramsError(() => resolveParams('etl', {}, wide)).message).toContain(
      'exceed 65536 bytes',
    );
    expect(resolveParams('etl', {}, { blob: 'x'.repeat(60_000) }).blob).toHaveLength(60_000);
  });

  it('rejects nesting deeper than 32 levels, also for cyclic objects', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 40; i++) deep = { d: deep };
    const error = paramsError(() => resolveParams('etl', {}, deep));
    expect(error.message).toContain('nest deeper than 32 levels');
    expect(error.field).toBe(Array.from({ length: 32 }, () => 'd').join('.'));
    let ok: unknown = 'leaf';
    for (let i = 0; i < 31; i++) ok = { d: ok };
    expect(() => resolveParams('etl', {}, ok)).not.toThrow();
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    expect(paramsError(() => resolveParams('etl', {}, cyclic)).message).toContain('nest deeper');
  });

  it('rejects values that are not JSON', () => {
    expect(paramsError(() => resolveParams('etl', {}, { n: Number.NaN })).message).toContain(
      "param 'n': must be a finite number, got NaN",
    );
    expect(paramsError(() => resolveParams('etl', {}, { f: () => 1 })).message).toContain(
      'got function',
    );
    expect(paramsError(() => resolveParams('etl', {}, { u: undefined })).field).toBe('u');
    expect(paramsError(() => resolveParams('etl', {}, { m: new Map() })).message).toContain(
      'got Map',
    );
    expect(paramsError(() => resolveParams('etl', {}, { b: 1n })).message).toContain('got bigint');
  });

  it('throws a SpecError on field params when the schema itself is invalid', () => {
    expect(() => resolveParams('etl', { type: 'string' }, {})).toThrow(SpecError);
    expect(() => resolveParams('etl', { type: 'string' }, {})).toThrow("dag 'etl' field 'params'");
  });
});

describe('checkParamsSchema', () => {
  it('accepts valid schemas, including an empty one', () => {
    expect(checkParamsSchema(schema)).toEqual([]);
    expect(checkParamsSchema({})).toEqual([]);
    expect(
      checkParamsSchema({
        type: 'object',
        $defs: { n: { type: 'integer' } },
        properties: { a: { $ref: '#/$defs/n' } },
      }),
    ).toEqual([]);
  });

  it('caches compiled schemas by their JSON (same answer, repeatably)', () => {
    const copy = JSON.parse(JSON.stringify(schema)) as JsonSchema;
    expect(checkParamsSchema(copy)).toEqual([]);
    expect(resolveParams('a', copy, { day: '2026-01-01' })).toEqual(
      resolveParams('b', schema, { day: '2026-01-01' }),
    );
  });

  it('accepts schemas with the same $id more than once', () => {
    const withId = {
      $id: 'https://example.com/params',
      type: 'object',
      properties: { a: { type: 'string' } },
    };
    expect(checkParamsSchema(withId)).toEqual([]);
    expect(checkParamsSchema({ ...withId, properties: { b: { type: 'string' } } })).toEqual([]);
  });

  it.each([
    [{ type: 'array' }, 'must describe an object'],
    [{ type: 'object', properties: { a: { type: 'strin' } } }, 'invalid params schema'],
    [
      { type: 'object', properties: { a: { type: 'string', defualt: 'x' } } },
      'unknown keyword: "defualt"',
    ],
    [
      { type: 'object', properties: { a: { type: 'integer', default: 'ten' } } },
      "the default of 'a' is invalid: must be integer, got string",
    ],
    [
      { type: 'object', properties: { a: { type: 'string', format: 'dat' } } },
      'unknown format "dat"',
    ],
  ])('reports problems in %j', (bad, message) => {
    const problems = checkParamsSchema(bad as JsonSchema);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });
});

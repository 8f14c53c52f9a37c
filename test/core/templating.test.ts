import { describe, expect, it } from 'vitest';
import {
  findTemplateVariables,
  renderConfig,
  renderTemplate,
  TemplateError,
  type TemplateVars,
  templateVariables,
} from '../../src/core/templating.ts';
import type { AttemptContext, AttemptKey } from '../../src/executor/executor.ts';

const vars: TemplateVars = {
  ds: '2026-01-02',
  try_number: 2,
  params: { limit: 10, name: 'Orders', tags: ['a', 'b'], nothing: null, nested: { deep: true } },
  upstream: { extract: { rows: 42 }, 'group.extract': { rows: 7 }, 'load-orders': 'ok' },
};

describe('renderTemplate', () => {
  it.each([
    ['plain text', 'plain text'],
    ['{{ds}}', '2026-01-02'],
    [
      "select * from t where d = '{{ ds }}' limit {{ params.limit }}",
      "select * from t where d = '2026-01-02' limit 10",
    ],
    ['{{ upstream.extract.rows }} rows', '42 rows'],
    ["{{ upstream['group.extract'].rows }}", '7'],
    ['{{ upstream["group.extract"]["rows"] }}', '7'],
    ['{{ upstream.load-orders }}', 'ok'],
    ['{{ params.tags.1 }}{{ params.tags[0] }}', 'ba'],
    ['{{ try_number }}', '2'],
    ['{{ params.nested }}', '{"deep":true}'],
    ['{{ params.tags }}', '["a","b"]'],
    ['{{ params.nothing }}', 'null'],
    ['{{ params.name | json }}', '"Orders"'],
    ['{{ params.nested | json }}', '{"deep":true}'],
    ['{{ params.name | upper }}/{{ params.name|lower }}', 'ORDERS/orders'],
    ["{{ params.missing | default('none') }}", 'none'],
    ["{{ params.nothing | default('was null') }}", 'was null'],
    ['{{ params.missing | default(5) }}', '5'],
    ['{{ undefined_name | default(null) }}', 'null'],
    ["{{ params.name | default('x') | upper }}", 'ORDERS'],
    ["{{ params.missing | upper | default('fallback') }}", 'fallback'],
    ["{{ '{{' }} ds }}", '{{ ds }}'],
    ["{{ 'it\\'s' }}", "it's"],
    ['{{ "}}" }}', '}}'],
    ['a }} b', 'a }} b'],
    ['{{\n  ds\n}}', '2026-01-02'],
  ])('%j → %j', (template, expected) => {
    expect(renderTemplate(template, vars)).toBe(expected);
  });

  it('names an unknown variable and lists the available top-level names', () => {
    expect(() => renderTemplate('select {{ dss }}', vars)).toThrow(TemplateError);
    expect(() => renderTemplate('select {{ dss }}', vars)).toThrow(
      "unknown template variable 'dss' (available: ds, params, try_number, upstream) in '{{ dss }}' of 'select {{ dss }}'",
    );
  });

  it('names a missing key and the keys that exist', () => {
    expect(() => renderTemplate('{{ upstream.extrac.rows }}', vars)).toThrow(
      "template variable 'upstream' has no key 'extrac' (keys: extract, group.extract, load-orders)",
    );
    expect(() => renderTemplate('{{ params.tags.5 }}', vars)).toThrow(
      "template variable 'params.tags' has no element 5 (it is an array of 2)",
    );
    expect(() => renderTemplate('{{ params.limit.x }}', vars)).toThrow(
      "template variable 'params.limit' has no key 'x' (it is 10)",
    );
  });

  it('does not reach into prototypes', () => {
    for (const path of [
      'constructor',
      'params.constructor',
      'params.__proto__',
      'params.tags.length',
      'ds.length',
    ]) {
      expect(() => renderTemplate(`{{ ${path} }}`, vars)).toThrow(TemplateError);
    }
  });

  it.each([
    ['{{ ds', "template syntax error at end of text: expected '|' or '}}'"],
    ['{{ }}', 'expected a variable name or a string literal'],
    ['{{ ds | reverse }}', "unknown filter 'reverse' (filters: json, upper, lower, default)"],
    ['{{ ds | default }}', "expected '(' after default"],
    ['{{ ds | default(x) }}', 'expected a string, number, true, false or null'],
    ["{{ ds | default('x' }}", "expected ')'"],
    ["{{ 'open }}", 'unterminated string'],
    ['{{ ds() }}', "at offset 5: expected '|' or '}}'"],
    ['{{ params[x] }}', "expected a number or a quoted key after '['"],
    ['{{ 1 + 1 }}', 'expected a variable name or a string literal'],
    ["{{ __import__('os') }}", "expected '|' or '}}'"],
  ])('rejects %j with a syntax error', (template, message) => {
    expect(() => renderTemplate(template, vars)).toThrow(TemplateError);
    expect(() => renderTemplate(template, vars)).toThrow(message);
  });
});

describe('renderConfig', () => {
  it('renders every string deeply and keeps everything else', () => {
    const config = {
      sql: 'select {{ params.limit }}',
      args: ['--date', '{{ ds }}', 3, true, null],
      env: { RUN: '{{ try_number }}', keep: 1.5 },
      '{{ ds }}': 'keys stay as they are',
    };
    expect(renderConfig(config, vars)).toEqual({
      sql: 'select 10',
      args: ['--date', '2026-01-02', 3, true, null],
      env: { RUN: '2', keep: 1.5 },
      '{{ ds }}': 'keys stay as they are',
    });
    expect(config.sql).toBe('select {{ params.limit }}');
  });

  it('names the config field at fault', () => {
    expect(() => renderConfig({ env: { X: ['ok', '{{ nope }}'] } }, vars)).toThrow(
      "config field 'env.X[1]': unknown template variable 'nope'",
    );
  });

  it('keeps a __proto__ key as data', () => {
    const config = JSON.parse('{"__proto__": {"polluted": "{{ ds }}"}}') as { [k: string]: string };
    const rendered = renderConfig(config, vars) as { [k: string]: unknown };
    expect(Object.hasOwn(rendered, '__proto__')).toBe(true);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe('findTemplateVariables', () => {
  it('lists the top-level names used, once each, in order', () => {
    expect(
      findTemplateVariables(
        "{{ params.a }} {{ ds }} {{ params.b | default('x') }} {{ '{{' }} {{ upstream['x.y'].z }}",
      ),
    ).toEqual(['params', 'ds', 'upstream']);
    expect(findTemplateVariables('no templates')).toEqual([]);
  });

  it('throws on bad syntax', () => {
    expect(() => findTemplateVariables('{{ ds')).toThrow(TemplateError);
  });
});

describe('templateVariables', () => {
  const key: AttemptKey = {
    dagId: 'etl',
    runId: 'scheduled__2026-01-02',
    taskId: 'load',
    mapIndex: -1,
    tryNumber: 3,
  };
  const context: AttemptContext = {
    runType: 'scheduled',
    logicalDate: '2026-01-01T23:30:00+01:00',
    dataIntervalStart: '2026-01-01T22:30:00Z',
    dataIntervalEnd: '2026-01-02T22:30:00.000Z',
    params: { limit: 5 },
    maxTries: 4,
    upstreamResults: { extract: { rows: 9 } },
  };

  it('builds the documented variables, dates in UTC', () => {
    expect(templateVariables(key, context)).toEqual({
      ds: '2026-01-01',
      ds_nodash: '20260101',
      ts: '2026-01-01T22:30:00.000Z',
      logical_date: '2026-01-01T22:30:00.000Z',
      data_interval_start: '2026-01-01T22:30:00.000Z',
      data_interval_end: '2026-01-02T22:30:00.000Z',
      run_id: 'scheduled__2026-01-02',
      dag_id: 'etl',
      task_id: 'load',
      try_number: 3,
      run_type: 'scheduled',
      params: { limit: 5 },
      upstream: { extract: { rows: 9 } },
      inputs: {},
      map_index: -1,
    });
  });

  it('adds the item of a mapped instance and the pinned inputs', () => {
    const vars = templateVariables(
      { ...key, mapIndex: 2 },
      { ...context, mapItem: { file: 'c.csv' }, inputs: { orders: { version: 3 } } },
    );
    expect(vars).toMatchObject({
      map_index: 2,
      item: { file: 'c.csv' },
      inputs: { orders: { version: 3 } },
    });
    expect(renderTemplate('{{ item.file }}@v{{ inputs.orders.version }}', vars)).toBe('c.csv@v3');
  });

  it('feeds renderTemplate', () => {
    const rendered = renderTemplate(
      '{{ dag_id }}/{{ ds_nodash }}/{{ upstream.extract.rows }}/{{ params.limit }}',
      templateVariables(key, context),
    );
    expect(rendered).toBe('etl/20260101/9/5');
  });

  it('rejects a context date that is not ISO 8601, naming it', () => {
    expect(() => templateVariables(key, { ...context, logicalDate: 'tomorrow' })).toThrow(
      "logicalDate 'tomorrow' is not an ISO 8601 date-time",
    );
  });
});

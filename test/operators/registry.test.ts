import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import {
  getOperator,
  listOperators,
  parseOperatorConfig,
  registerOperator,
  validateOperatorConfig,
} from '../../src/operators/registry.ts';

describe('operator registry', () => {
  it('has the built-in operators, each documenting every config field', () => {
    const names = listOperators().map((o) => o.name);
    expect(names).toEqual(expect.arrayContaining(['shell', 'ts']));
    for (const operator of listOperators()) {
      expect(operator.description).not.toBe('');
      expect(operator.configSchema.description).toBeTypeOf('string');
      for (const [field, schema] of Object.entries(operator.configSchema.properties ?? {})) {
        expect(
          (schema as { description?: unknown }).description,
          `${operator.name}.${field}`,
        ).toBeTypeOf('string');
      }
    }
    expect(getOperator('shell')?.name).toBe('shell');
    expect(getOperator('nope')).toBeUndefined();
  });

  it('accepts a valid config and fills its defaults on a copy', () => {
    const config = { command: 'echo hi' };
    const parsed = parseOperatorConfig('shell', config);
    expect(parsed).toMatchObject({
      ok: true,
      config: { command: 'echo hi', shell: '/bin/sh', returnOutput: 'none', skipOnExitCode: 99 },
    });
    expect(config).toEqual({ command: 'echo hi' });
    expect(validateOperatorConfig('shell', config)).toEqual([]);
    expect(validateOperatorConfig('ts', {})).toEqual([]);
  });

  it('names each bad field and what it should be', () => {
    expect(validateOperatorConfig('shell', {})).toEqual(["field 'command': is required"]);
    expect(
      validateOperatorConfig('shell', { command: 'x', env: { A: 1 }, skipOnExitCode: 300 }),
    ).toEqual([
      "field 'env.A': expected string (got 1)",
      "field 'skipOnExitCode': must be one of integer, null (got 300)",
    ]);
    expect(validateOperatorConfig('ts', { command: 'x' })).toEqual([
      "field 'command': is not a known field (this operator takes no config)",
    ]);
  });

  it('names the known operators when one is unknown', () => {
    expect(validateOperatorConfig('sqll', {})).toEqual([
      expect.stringMatching(/^unknown operator 'sqll' \(known operators: .*'shell'.*'ts'/),
    ]);
  });

  it('registers a plug-in operator once', () => {
    const echo = {
      name: 'echo_config',
      description: 'Returns its config.',
      configSchema: Type.Object({ value: Type.String({ description: 'What to return.' }) }),
      run: async (config: { value: string }) => config.value,
    };
    registerOperator(echo);
    expect(getOperator('echo_config')).toBe(echo);
    expect(() => registerOperator(echo)).toThrow(
      "an operator named 'echo_config' is already registered",
    );
  });
});

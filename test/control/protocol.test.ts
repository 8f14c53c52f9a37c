/** Errors crossing the control socket come back as the classes they were thrown as. */
import { describe, expect, it } from 'vitest';
import { StoreLockedError } from '../../src/control/lock.ts';
import { errorFromWire, errorToWire, parseRequest } from '../../src/control/protocol.ts';
import {
  ConflictError,
  NotFoundError,
  ParamsError,
  SpecError,
  UpdraftError,
} from '../../src/core/errors.ts';

/** Through JSON, as on the socket. */
function roundTrip(error: unknown): UpdraftError {
  return errorFromWire(JSON.parse(JSON.stringify(errorToWire(error))));
}

describe('errors over the wire', () => {
  it('keeps the class, code and message of NotFoundError and ConflictError', () => {
    for (const error of [new NotFoundError("dag 'x' not found"), new ConflictError('run exists')]) {
      const back = roundTrip(error);
      expect(back).toBeInstanceOf(error.constructor);
      expect([back.code, back.message]).toEqual([error.code, error.message]);
    }
  });

  it('keeps the DAG and field of ParamsError', () => {
    const back = roundTrip(new ParamsError('etl', 'limits.max', 'must be >= 1'));
    expect(back).toBeInstanceOf(ParamsError);
    expect(back).toMatchObject({ dagId: 'etl', field: 'limits.max', code: 'params_invalid' });
    expect(back.message).toBe("dag 'etl': param 'limits.max': must be >= 1");
  });

  it('keeps the issues of SpecError', () => {
    const issues = [
      { file: 'a.ts', line: 3, dagId: 'etl', field: 'schedule', message: 'bad cron' },
    ];
    const back = roundTrip(new SpecError(issues));
    expect(back).toBeInstanceOf(SpecError);
    expect((back as SpecError).issues).toEqual(issues);
  });

  it('keeps the code of other Updraft errors', () => {
    const holder = { pid: 1, hostname: 'h', purpose: 'server', command: 'c', since: 's' } as const;
    const back = roundTrip(new StoreLockedError('/x/updraft.lock', holder));
    expect(back).toBeInstanceOf(UpdraftError);
    expect(back.code).toBe('store_locked');
  });

  it('reports errors that are not Updraft errors as internal, without their stack', () => {
    const wire = errorToWire(new TypeError('x is undefined'));
    expect(wire).toEqual({
      code: 'internal',
      name: 'Error',
      message: 'internal error in the server: x is undefined',
    });
  });
});

describe('parseRequest', () => {
  it('accepts {id, method, args} and defaults args to []', () => {
    expect(parseRequest('{"id": "a", "method": "listPools"}')).toEqual({
      id: 'a',
      method: 'listPools',
      args: [],
    });
  });

  it('answers bad requests with the id when it can be read', () => {
    expect(parseRequest('{"id": 4, "method": "getDag", "args": {}}')).toMatchObject({
      id: 4,
      error: { code: 'bad_request', message: 'request args must be an array' },
    });
    expect(parseRequest('[1]')).toMatchObject({ id: 0, error: { code: 'bad_request' } });
  });
});

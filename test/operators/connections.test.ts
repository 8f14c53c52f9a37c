import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/core/errors.ts';
import { connectionEnvVar, connectionFromEnv } from '../../src/operators/connections.ts';

describe('connections from the environment', () => {
  it('names the variable after the connection, upper-cased, other characters as _', () => {
    expect(connectionEnvVar('warehouse')).toBe('UPDRAFT_CONN_WAREHOUSE');
    expect(connectionEnvVar('my-db.eu')).toBe('UPDRAFT_CONN_MY_DB_EU');
  });

  it('parses every part of the URL, decoding escapes', () => {
    const url = 'postgres://etl:s%40cret@db.example:5432/analytics?sslmode=require&app=updraft';
    expect(connectionFromEnv('my-db', { UPDRAFT_CONN_MY_DB: url })).toEqual({
      name: 'my-db',
      url,
      type: 'postgres',
      host: 'db.example',
      port: 5432,
      login: 'etl',
      password: 's@cret',
      schema: 'analytics',
      extra: { sslmode: 'require', app: 'updraft' },
    });
  });

  it('gives null for the parts a URL leaves out', () => {
    expect(connectionFromEnv('api', { UPDRAFT_CONN_API: 'https://api.example.com' })).toMatchObject(
      {
        type: 'https',
        host: 'api.example.com',
        port: null,
        login: null,
        password: null,
        schema: null,
        extra: {},
      },
    );
  });

  it('names the variable to set when the connection is missing', () => {
    expect(() => connectionFromEnv('warehouse', {})).toThrow(NotFoundError);
    expect(() => connectionFromEnv('warehouse', { UPDRAFT_CONN_WAREHOUSE: ' ' })).toThrow(
      "connection 'warehouse' is not defined: set the environment variable UPDRAFT_CONN_WAREHOUSE to its URL",
    );
  });

  it.each(['etl:hunter2@db:5432/sales', 'hunter2@db', 'postgres://etl:hunter2@db:port/x'])(
    'rejects %s, which is not a URL, without echoing it (it may hold a password)',
    (value) => {
      let message = '';
      try {
        connectionFromEnv('db', { UPDRAFT_CONN_DB: value });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain("connection 'db': UPDRAFT_CONN_DB is not a valid URL");
      expect(message).not.toContain('hunter2');
    },
  );

  it('rejects an empty name', () => {
    expect(() => connectionFromEnv(' ', {})).toThrow('connection name is empty');
  });
});

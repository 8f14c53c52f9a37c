/**
 * Connections from the environment: a connection named `warehouse` is the URL in
 * `UPDRAFT_CONN_WAREHOUSE` (e.g. `postgres://etl:secret@db:5432/analytics?sslmode=require`).
 * Names are upper-cased and every character other than a letter or digit becomes `_`,
 * so `my-db` reads `UPDRAFT_CONN_MY_DB`. A fuller, encrypted connection store comes later
 * and will keep this lookup as its fallback.
 */
import { NotFoundError, UpdraftError } from '../core/errors.ts';
import type { ConnectionInfo } from '../core/task-context.ts';

/** Name of the environment variable that holds the connection `name`. */
export function connectionEnvVar(name: string): string {
  return `UPDRAFT_CONN_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * Reads connection `name` from `env` (default `process.env`). Throws `NotFoundError`
 * naming the variable to set when it is missing, and `UpdraftError`
 * (`connection_invalid`) when it is not a URL; neither message contains the value.
 */
export function connectionFromEnv(
  name: string,
  env: Record<string, string | undefined> = process.env,
): ConnectionInfo {
  if (name.trim() === '') {
    throw new UpdraftError('connection_invalid', 'connection name is empty');
  }
  const variable = connectionEnvVar(name);
  const value = env[variable];
  if (value === undefined || value.trim() === '') {
    throw new NotFoundError(
      `connection '${name}' is not defined: set the environment variable ${variable} ` +
        'to its URL (e.g. postgres://user:password@host:5432/database)',
    );
  }
  const text = value.trim();
  let url: URL | undefined;
  try {
    // `user:pass@host` without a scheme would parse as scheme `user`: require `scheme://`.
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) url = new URL(text);
  } catch {
    // reported below, without the value
  }
  if (url === undefined) {
    throw new UpdraftError(
      'connection_invalid',
      `connection '${name}': ${variable} is not a valid URL ` +
        '(expected e.g. postgres://user:password@host:5432/database; encode special characters with %XX)',
    );
  }
  const decode = (text: string): string | null => (text === '' ? null : decodeURIComponent(text));
  return {
    name,
    url: text,
    type: url.protocol.replace(/:$/, ''),
    host: decodeURIComponent(url.hostname),
    port: url.port === '' ? null : Number(url.port),
    login: decode(url.username),
    password: decode(url.password),
    schema: decode(url.pathname.replace(/^\//, '')),
    extra: Object.fromEntries(url.searchParams),
  };
}

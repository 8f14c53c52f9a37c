/**
 * Named connections beyond the environment: stored in the metadata DB (URL encrypted
 * with AES-256-GCM, see `secret-box.ts`) or listed in a connections file
 * (`<home>/connections.yaml`, or `UPDRAFT_CONNECTIONS_FILE`):
 *
 *     warehouse: postgres://etl:secret@db:5432/analytics
 *     alerts:
 *       url: slack+https://hooks.slack.com/services/T000/B000/XXXX
 *       description: the #data-alerts channel
 *
 * Workers never read either: the scheduler resolves the connections a task names (its
 * `connections` option, a data operator's `connection` field; `prepareAttempt`) and
 * hands their URLs over with the attempt. Lookup order in a task:
 * stored, then the file, then `UPDRAFT_CONN_<NAME>`. Listings show URLs redacted.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { connectionNameProblem } from '../core/connection-name.ts';
import { NotFoundError, UpdraftError } from '../core/errors.ts';
import type { Db } from '../store/store.ts';
import { dataDb } from './schema.ts';
import type { SecretBox } from './secret-box.ts';

/** Connection types, by URL scheme. */
const TYPES: Record<string, string> = {
  postgres: 'postgres',
  postgresql: 'postgres',
  pglite: 'pglite',
  duckdb: 'duckdb',
  http: 'http',
  https: 'http',
  smtp: 'smtp',
  smtps: 'smtp',
  'slack+https': 'slack',
  'webhook+https': 'webhook',
  'webhook+http': 'webhook',
};

/** Types whose URL path or query holds the secret (webhook tokens). */
const SECRET_PATH_TYPES = new Set(['slack', 'webhook']);

export const CONNECTIONS_FILE_VAR = 'UPDRAFT_CONNECTIONS_FILE';

/** A connection as listings show it: never its secret. */
export interface ConnectionSummary {
  name: string;
  type: string;
  /** The URL with password, tokens and query values replaced by `***`. */
  url: string;
  description: string | null;
  source: 'store' | 'file';
  /** Encryption key id (stored connections). */
  keyId: string | null;
  updatedAt: string | null;
}

/** The type of a connection URL; throws (without echoing the URL) when it is not one. */
export function connectionTypeOf(name: string, url: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  let valid = false;
  try {
    valid = scheme !== undefined && new URL(url).protocol !== '';
  } catch {
    valid = false;
  }
  if (!valid || scheme === undefined) {
    throw new UpdraftError(
      'connection_invalid',
      `connection '${name}': the value is not a URL (expected e.g. postgres://user:password@host:5432/database; encode special characters with %XX)`,
    );
  }
  const type = TYPES[scheme];
  if (type === undefined) {
    throw new UpdraftError(
      'connection_invalid',
      `connection '${name}': unknown scheme '${scheme}://' (known: ${Object.keys(TYPES).join(', ')})`,
    );
  }
  return type;
}

/** `url` with its secrets replaced by `***`, for listings and messages. */
export function redactConnectionUrl(url: string, type: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) u.searchParams.set(key, '***');
    if (SECRET_PATH_TYPES.has(type) && u.pathname !== '/') u.pathname = '/***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

/** Checks a connection name (the rule of `src/core/connection-name.ts`). */
export function assertConnectionName(name: string): void {
  const problem = connectionNameProblem(name);
  if (problem !== null) throw new UpdraftError('connection_name_invalid', problem);
}

/** Stores (or replaces) connection `name`, encrypted. */
export async function putConnection(
  db: Db,
  box: SecretBox,
  input: { name: string; url: string; description?: string | null },
  now = new Date(),
): Promise<ConnectionSummary> {
  assertConnectionName(input.name);
  const type = connectionTypeOf(input.name, input.url);
  const { sealed, keyId } = box.seal(input.url);
  await dataDb(db)
    .insertInto('connections')
    .values({
      name: input.name,
      type,
      secret: sealed,
      key_id: keyId,
      description: input.description ?? null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.column('name').doUpdateSet({
        type,
        secret: sealed,
        key_id: keyId,
        description: input.description ?? null,
        updated_at: now,
      }),
    )
    .execute();
  return {
    name: input.name,
    type,
    url: redactConnectionUrl(input.url, type),
    description: input.description ?? null,
    source: 'store',
    keyId,
    updatedAt: now.toISOString(),
  };
}

/** Removes stored connection `name`; throws `NotFoundError` when there is none. */
export async function deleteConnection(db: Db, name: string): Promise<void> {
  const result = await dataDb(db)
    .deleteFrom('connections')
    .where('name', '=', name)
    .executeTakeFirst();
  if (result.numDeletedRows === 0n) {
    throw new NotFoundError(`no stored connection '${name}'`);
  }
}

/** Stored connections, redacted (decrypted only to redact; a bad key shows as such). */
export async function listStoredConnections(db: Db, box: SecretBox): Promise<ConnectionSummary[]> {
  const rows = await dataDb(db).selectFrom('connections').selectAll().orderBy('name').execute();
  return rows.map((row) => {
    let url: string;
    try {
      url = redactConnectionUrl(box.open(row.secret, `connection '${row.name}'`), row.type);
    } catch (error) {
      url = `<cannot decrypt: ${(error as Error).message}>`;
    }
    return {
      name: row.name,
      type: row.type,
      url,
      description: row.description,
      source: 'store' as const,
      keyId: row.key_id,
      updatedAt: new Date(row.updated_at).toISOString(),
    };
  });
}

/** Decrypted URLs of the stored connections among `names` (missing names are left out). */
export async function storedConnectionUrls(
  db: Db,
  box: SecretBox,
  names: string[],
): Promise<Record<string, string>> {
  if (names.length === 0) return {};
  const rows = await dataDb(db)
    .selectFrom('connections')
    .select(['name', 'secret'])
    .where('name', 'in', names)
    .execute();
  return Object.fromEntries(
    rows.map((row) => [row.name, box.open(row.secret, `connection '${row.name}'`)]),
  );
}

/** Re-encrypts every stored connection with the current key; returns how many changed. */
export async function rotateConnectionKeys(db: Db, box: SecretBox): Promise<number> {
  const current = box.currentKeyId;
  if (current === null) box.seal(''); // throws the "set UPDRAFT_SECRET_KEY" error
  const data = dataDb(db);
  const rows = await data
    .selectFrom('connections')
    .select(['name', 'secret', 'key_id'])
    .where('key_id', '!=', current ?? '')
    .execute();
  for (const row of rows) {
    const { sealed, keyId } = box.seal(box.open(row.secret, `connection '${row.name}'`));
    await data
      .updateTable('connections')
      .set({ secret: sealed, key_id: keyId, updated_at: new Date() })
      .where('name', '=', row.name)
      .execute();
  }
  return rows.length;
}

/** The connections file of `home`: `UPDRAFT_CONNECTIONS_FILE` or `<home>/connections.yaml`. */
export function connectionsFilePath(
  home: string,
  env: Record<string, string | undefined> = process.env,
): string {
  return path.resolve(env[CONNECTIONS_FILE_VAR] || path.join(home, 'connections.yaml'));
}

/**
 * Reads a connections file: `name: url` or `name: { url, description }` per entry. A
 * missing file is empty; a malformed one throws naming the file, line and entry (never
 * the URL).
 */
export function readConnectionsFile(
  file: string,
): Map<string, { url: string; description: string | null }> {
  const found = new Map<string, { url: string; description: string | null }>();
  if (!existsSync(file)) return found;
  const lines = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: lines });
  const at = (offset: number | undefined) =>
    offset === undefined ? file : `${file}:${lines.linePos(offset).line}`;
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    throw new UpdraftError(
      'connections_file_invalid',
      `${at(first?.pos[0])}: not valid YAML: ${first?.message.split('\n')[0] ?? ''}`,
    );
  }
  if (doc.contents === null) return found;
  if (!isMap(doc.contents)) {
    throw new UpdraftError(
      'connections_file_invalid',
      `${file}: expected a mapping of connection names to URLs`,
    );
  }
  for (const item of doc.contents.items) {
    const key = isScalar(item.key) ? String(item.key.value) : '';
    const where = at(isScalar(item.key) ? item.key.range?.[0] : undefined);
    const value = item.value;
    let url: unknown;
    let description: unknown = null;
    if (isScalar(value)) url = value.value;
    else if (isMap(value)) {
      url = value.get('url');
      description = value.get('description') ?? null;
    }
    if (typeof url !== 'string' || (description !== null && typeof description !== 'string')) {
      throw new UpdraftError(
        'connections_file_invalid',
        `${where}: connection '${key}' must be a URL string or { url, description }`,
      );
    }
    try {
      assertConnectionName(key);
      connectionTypeOf(key, url);
    } catch (error) {
      throw new UpdraftError('connections_file_invalid', `${where}: ${(error as Error).message}`);
    }
    found.set(key, { url, description: description as string | null });
  }
  return found;
}

/** The file's connections, redacted, for listings. */
export function listFileConnections(file: string): ConnectionSummary[] {
  return [...readConnectionsFile(file)].map(([name, entry]) => {
    const type = connectionTypeOf(name, entry.url);
    return {
      name,
      type,
      url: redactConnectionUrl(entry.url, type),
      description: entry.description,
      source: 'file' as const,
      keyId: null,
      updatedAt: null,
    };
  });
}

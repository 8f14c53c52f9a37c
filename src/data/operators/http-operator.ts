/**
 * The `http` operator: fetches JSON, NDJSON or CSV over HTTP into a new dataset
 * version. The body is streamed to a file (bounded memory) and read by DuckDB: a JSON
 * array of objects or NDJSON gives one row per object; `recordsPath` picks a list
 * inside a JSON document (`data.items`). The URL is `url`, or `path` under the base URL
 * of an `http(s)://` connection (whose user and password become basic auth).
 */
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { type Static, Type } from '@sinclair/typebox';
import type { Json } from '../../core/dag-spec.ts';
import { TaskFailure } from '../../core/errors.ts';
import type { Operator, OperatorContext } from '../../operators/operator.ts';
import { redactConnectionUrl } from '../connection-store.ts';
import { sqlIdentifier, sqlString } from '../duckdb-session.ts';
import { openScratchDuckDb, withScratch } from '../scratch.ts';
import { stageQuery } from '../stage-version.ts';

export const httpConfigSchema = Type.Object(
  {
    url: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Full URL to fetch (or give connection and path).',
      }),
    ),
    connection: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'An http(s) connection whose URL is the base; its user and password become basic auth.',
      }),
    ),
    path: Type.Optional(Type.String({ description: 'Path (and query) under the connection URL.' })),
    method: Type.Union([Type.Literal('GET'), Type.Literal('POST')], {
      default: 'GET',
      description: "'GET' (default) or 'POST'.",
    }),
    headers: Type.Optional(
      Type.Record(Type.String(), Type.String(), { description: 'Request headers.' }),
    ),
    body: Type.Optional(Type.String({ description: 'Request body (POST).' })),
    format: Type.Union(
      [Type.Literal('auto'), Type.Literal('json'), Type.Literal('ndjson'), Type.Literal('csv')],
      {
        default: 'auto',
        description: "'json', 'ndjson', 'csv', or 'auto' (default: from the Content-Type).",
      },
    ),
    recordsPath: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$',
        description: 'Dotted path of the list of records inside a JSON document (data.items).',
      }),
    ),
    dataset: Type.String({ minLength: 1, description: 'Dataset that gets the new version.' }),
    timeoutMs: Type.Integer({
      minimum: 1,
      default: 60_000,
      description: 'Whole request timeout in ms (default 60 000).',
    }),
  },
  { additionalProperties: false, description: 'Fetches JSON or CSV over HTTP into a dataset.' },
);

export type HttpConfig = Static<typeof httpConfigSchema>;

export const httpOperator: Operator<HttpConfig> = {
  name: 'http',
  description: 'Fetches JSON, NDJSON or CSV over HTTP into a new dataset version.',
  configSchema: httpConfigSchema,
  async run(config, ctx): Promise<Json> {
    const { url, headers } = requestOf(config, ctx);
    return withScratch(ctx, async (dir) => {
      const file = path.join(dir, 'body');
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(config.timeoutMs)]);
      let response: Response;
      try {
        response = await fetch(url, {
          method: config.method,
          headers,
          ...(config.body === undefined ? {} : { body: config.body }),
          signal,
        });
      } catch (error) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        throw new TaskFailure(
          `task '${ctx.taskId}': ${config.method} ${redactConnectionUrl(url, 'http')} failed: ${(error as Error).message}`,
          { cause: error },
        );
      }
      if (!response.ok || response.body === null) {
        const text = (await response.text().catch(() => '')).slice(0, 300);
        throw new TaskFailure(
          `task '${ctx.taskId}': ${config.method} ${redactConnectionUrl(url, 'http')} answered ${response.status} ${response.statusText}${text ? `: ${text}` : ''}`,
          { retry: response.status >= 500 || response.status === 429 },
        );
      }
      await pipeline(
        Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
        createWriteStream(file),
      );
      const format =
        config.format === 'auto' ? formatOf(response.headers.get('content-type')) : config.format;
      const session = await openScratchDuckDb(ctx, dir);
      try {
        return await stageQuery(
          ctx,
          session,
          config.dataset,
          readerSql(file, format, config.recordsPath),
        );
      } finally {
        session.close();
      }
    });
  },
};

function requestOf(
  config: HttpConfig,
  ctx: OperatorContext,
): { url: string; headers: Record<string, string> } {
  const headers: Record<string, string> = { ...config.headers };
  if (config.url !== undefined) return { url: config.url, headers };
  if (config.connection === undefined) {
    throw new TaskFailure(`task '${ctx.taskId}': give 'url', or 'connection' (and 'path')`, {
      retry: false,
    });
  }
  const info = ctx.connection(config.connection);
  if (info.type !== 'http' && info.type !== 'https') {
    throw new TaskFailure(
      `task '${ctx.taskId}': connection '${config.connection}' is a '${info.type}' connection; the http operator needs an http(s):// one`,
      { retry: false },
    );
  }
  const base = new URL(info.url);
  const login = base.username;
  const password = base.password;
  base.username = '';
  base.password = '';
  if (login !== '' && headers.authorization === undefined && headers.Authorization === undefined) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(login)}:${decodeURIComponent(password)}`).toString('base64')}`;
  }
  const url = new URL(
    (config.path ?? '').replace(/^\//, ''),
    base.href.endsWith('/') ? base.href : `${base.href}/`,
  );
  return { url: url.toString(), headers };
}

function formatOf(contentType: string | null): 'json' | 'ndjson' | 'csv' {
  const type = (contentType ?? '').toLowerCase();
  if (type.includes('csv')) return 'csv';
  if (type.includes('ndjson') || type.includes('jsonl')) return 'ndjson';
  return 'json';
}

function readerSql(
  file: string,
  format: 'json' | 'ndjson' | 'csv',
  recordsPath: string | undefined,
): string {
  if (format === 'csv') return `select * from read_csv(${sqlString(file)}, header = true)`;
  const reader = `read_json(${sqlString(file)}, format = '${format === 'ndjson' ? 'newline_delimited' : 'auto'}')`;
  if (recordsPath === undefined) return `select * from ${reader}`;
  const column = recordsPath.split('.').map(sqlIdentifier).join('.');
  return `select unnest(doc.${column}, recursive := true) from ${reader} as doc`;
}

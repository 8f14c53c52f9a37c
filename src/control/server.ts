/**
 * The control socket server: lets CLI commands in other processes call the
 * `Operations`, `DatasetOperations` and `QualityOperations` of the process that holds
 * the embedded store (see `protocol.ts`).
 */
import fs from 'node:fs';
import net from 'node:net';
import type { Logger } from 'pino';
import { UpdraftError } from '../core/errors.ts';
import type { DatasetOperations } from '../data/dataset-operations.ts';
import type { Operations } from '../ops/operations.ts';
import type { QualityOperations } from '../quality/quality-operations.ts';
import { LineSplitter } from './line-splitter.ts';
import {
  errorToWire,
  HELLO_METHOD,
  type HelloResult,
  MAX_REQUEST_BYTES,
  MAX_RESPONSE_BYTES,
  parseRequest,
  type Response,
  resolveMethod,
} from './protocol.ts';

/** Longest Unix socket path Linux accepts (`sun_path` is 108 bytes with its NUL). */
const MAX_SOCKET_PATH_BYTES = 107;

export interface ControlServerOptions {
  /** Where to listen; an existing file there is replaced (the caller holds the store lock). */
  socketPath: string;
  ops: Operations;
  /** Served as `datasets.<method>`; without it those calls answer `unavailable`. */
  datasets?: DatasetOperations;
  /** Served as `quality.<method>`; without it those calls answer `unavailable`. */
  quality?: QualityOperations;
  /** Reported by `$hello`. */
  version: string;
  log?: Logger;
}

export interface ControlServer {
  readonly socketPath: string;
  /** Stops accepting, closes open connections and removes the socket file. */
  close(): Promise<void>;
}

/** Listens on the control socket (mode 0600) and serves requests until `close()`. */
export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const { socketPath, log } = options;
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw new UpdraftError(
      'socket_path_too_long',
      `the control socket path ${socketPath} is longer than ${MAX_SOCKET_PATH_BYTES} bytes, ` +
        'which Unix sockets do not allow: use a shorter --home',
    );
  }
  fs.rmSync(socketPath, { force: true });
  const connections = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', (error) => log?.debug({ err: error }, 'control connection error'));
    serveConnection(socket, options);
  });
  await listenPrivately(server, socketPath);
  log?.debug({ socketPath }, 'control socket listening');
  return {
    socketPath,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of connections) socket.destroy();
      await closed;
      fs.rmSync(socketPath, { force: true });
    },
  };
}

/** Binds with a umask that leaves the socket readable and writable by its owner only. */
async function listenPrivately(server: net.Server, socketPath: string): Promise<void> {
  const previous = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(previous);
  }
  fs.chmodSync(socketPath, 0o600);
}

function serveConnection(socket: net.Socket, options: ControlServerOptions): void {
  const send = (response: Response) => {
    if (socket.destroyed) return;
    let line = JSON.stringify(response);
    if (Buffer.byteLength(line) > MAX_RESPONSE_BYTES) {
      line = JSON.stringify({
        id: response.id,
        error: errorToWire(
          new UpdraftError(
            'response_too_large',
            `the answer exceeds ${MAX_RESPONSE_BYTES} bytes: ask for less (use a limit or a filter)`,
          ),
        ),
      } satisfies Response);
    }
    socket.write(`${line}\n`);
  };
  const splitter = new LineSplitter(
    MAX_REQUEST_BYTES,
    (line) => {
      void handleLine(line, options).then(send);
    },
    (bytes) => {
      const error = new UpdraftError(
        'request_too_large',
        `request of ${bytes}+ bytes exceeds the ${MAX_REQUEST_BYTES}-byte limit of the control socket`,
      );
      socket.end(`${JSON.stringify({ id: 0, error: errorToWire(error) } satisfies Response)}\n`);
    },
  );
  socket.on('data', (chunk: Buffer) => splitter.push(chunk));
}

async function handleLine(line: string, options: ControlServerOptions): Promise<Response> {
  const request = parseRequest(line);
  if ('error' in request) return { id: request.id, error: errorToWire(request.error) };
  try {
    return { id: request.id, result: await dispatch(request.method, request.args, options) };
  } catch (error) {
    if (!(error instanceof UpdraftError)) {
      options.log?.error({ err: error, method: request.method }, 'control request failed');
    }
    return { id: request.id, error: errorToWire(error) };
  }
}

async function dispatch(
  method: string,
  args: unknown[],
  options: ControlServerOptions,
): Promise<unknown> {
  if (method === HELLO_METHOD) {
    return { pid: process.pid, version: options.version } satisfies HelloResult;
  }
  const resolved = resolveMethod(method);
  if (resolved === null) {
    throw new UpdraftError('unknown_method', `unknown control method '${method}'`);
  }
  if (args.length > resolved.arity) {
    throw new UpdraftError(
      'bad_request',
      `${method} takes at most ${resolved.arity} arguments, got ${args.length}`,
    );
  }
  const target = options[resolved.service];
  if (target === undefined) {
    throw new UpdraftError(
      'unavailable',
      `this Updraft process does not serve ${resolved.service} operations on its control socket`,
    );
  }
  const fn = (target as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[
    resolved.method
  ] as (...a: unknown[]) => Promise<unknown>;
  return await fn.apply(target, args);
}

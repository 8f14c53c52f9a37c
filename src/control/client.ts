/**
 * The control socket client: an `Operations`, a `DatasetOperations` and a
 * `QualityOperations` whose methods run in the process that serves the socket (see
 * `protocol.ts`). Errors come back as the classes they were thrown as.
 */
import net from 'node:net';
import { UpdraftError } from '../core/errors.ts';
import type { DatasetOperations } from '../data/dataset-operations.ts';
import type { Operations } from '../ops/operations.ts';
import type { QualityOperations } from '../quality/quality-operations.ts';
import { LineSplitter } from './line-splitter.ts';
import {
  type ControlServices,
  errorFromWire,
  HELLO_METHOD,
  type HelloResult,
  MAX_RESPONSE_BYTES,
  type Response,
  SERVICES,
  type ServiceName,
} from './protocol.ts';

export interface ControlClient {
  /** Calls go to the server process. */
  readonly ops: Operations;
  /** Dataset and connection calls (`datasets.<method>`) go to the server process. */
  readonly datasets: DatasetOperations;
  /** Quality calls (`quality.<method>`) go to the server process. */
  readonly quality: QualityOperations;
  /** What the server said on connecting. */
  readonly server: HelloResult;
  /** Closes the connection; calls still in flight fail. */
  close(): void;
}

/**
 * Connects to a control socket and greets the server. Rejects (with the socket error,
 * e.g. `ENOENT` or `ECONNREFUSED`) when nothing answers within `timeoutMs`.
 *
 * @param options.timeoutMs how long to wait for the greeting (default 2000)
 */
export async function connectControl(
  socketPath: string,
  options: { timeoutMs?: number } = {},
): Promise<ControlClient> {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.createConnection(socketPath);
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  let closedError: UpdraftError | null = null;

  const failAll = (error: UpdraftError) => {
    closedError ??= error;
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };
  const splitter = new LineSplitter(
    MAX_RESPONSE_BYTES,
    (line) => {
      let response: Response;
      try {
        response = JSON.parse(line) as Response;
      } catch {
        failAll(
          new UpdraftError('bad_response', 'the control socket sent a line that is not JSON'),
        );
        socket.destroy();
        return;
      }
      const call = typeof response.id === 'number' ? pending.get(response.id) : undefined;
      if (!call) {
        // id 0: the server refused the connection as a whole (e.g. an oversized request).
        if ('error' in response) failAll(errorFromWire(response.error));
        return;
      }
      pending.delete(response.id as number);
      if ('error' in response) call.reject(errorFromWire(response.error));
      else call.resolve(response.result);
    },
    (bytes) => {
      failAll(
        new UpdraftError(
          'response_too_large',
          `the control socket answer exceeds ${MAX_RESPONSE_BYTES} bytes (${bytes}+)`,
        ),
      );
      socket.destroy();
    },
  );
  socket.on('data', (chunk: Buffer) => splitter.push(chunk));
  socket.on('error', () => {});
  socket.on('close', () =>
    failAll(
      new UpdraftError(
        'control_disconnected',
        `lost the connection to the Updraft process serving ${socketPath}`,
      ),
    ),
  );

  const call = (method: string, args: unknown[]): Promise<unknown> => {
    if (closedError) return Promise.reject(closedError);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      // Trailing undefined arguments become null in JSON; leave them out.
      let n = args.length;
      while (n > 0 && args[n - 1] === undefined) n--;
      socket.write(`${JSON.stringify({ id, method, args: args.slice(0, n) })}\n`);
    });
  };

  let server: HelloResult;
  try {
    server = await withTimeout(
      call(HELLO_METHOD, []) as Promise<HelloResult>,
      options.timeoutMs ?? 2000,
      socketPath,
    );
  } catch (error) {
    socket.destroy();
    throw error;
  }
  const close = () => {
    failAll(new UpdraftError('control_closed', `the connection to ${socketPath} is closed`));
    socket.end();
  };
  return {
    ops: serviceOver('ops', call),
    datasets: serviceOver('datasets', call),
    quality: serviceOver('quality', call),
    server,
    close,
  };
}

/** An object with every method of `service`, each a call of `<prefix><method>`. */
function serviceOver<S extends ServiceName>(
  service: S,
  call: (method: string, args: unknown[]) => Promise<unknown>,
): ControlServices[S] {
  const { prefix, arity } = SERVICES[service];
  const methods: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const name of Object.keys(arity)) {
    methods[name] = (...args) => call(`${prefix}${name}`, args);
  }
  // Every method of the interface is present (its arity table lists them all).
  return methods as unknown as ControlServices[S];
}

function withTimeout<T>(promise: Promise<T>, ms: number, socketPath: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new UpdraftError('control_timeout', `no answer on ${socketPath} after ${ms} ms`)),
      ms,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

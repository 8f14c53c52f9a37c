/**
 * Serves one PGlite database over the PostgreSQL wire protocol on a Unix socket, so that
 * any PostgreSQL client — the `extract`, `sql` and `load` operators in worker processes,
 * `psql`, `updraft examples seed` — can use an embedded database as if it were a server.
 *
 * PGlite is a single-session database, so the server runs one client session at a
 * time: a client that connects while another session is open waits (up to
 * `waitTimeoutMs`) and then gets the database to itself. When a session ends, the
 * server rolls back what it left open and runs `DISCARD ALL` (prepared statements,
 * temporary tables, settings), so the next session starts clean.
 *
 * Messages are handed to PGlite's `execProtocolRawStream` unchanged, with two
 * exceptions PGlite cannot take message by message:
 * - `COPY ... FROM STDIN` (simple query protocol): PGlite must receive the query, all
 *   its data and the end of the copy in one call. The server answers the query with a
 *   CopyInResponse itself, gathers the client's data (at most `maxCopyBytes`), then
 *   runs the whole copy at once. The same statement through the extended protocol is
 *   refused with an error.
 * - Terminate (`X`) ends the session here; it never reaches PGlite.
 * There is no authentication: the socket is created owner-only (0600), like the
 * control socket.
 */
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';

export interface PGliteServerOptions {
  /** Path of the socket file to create (its folder is created). */
  socketPath: string;
  /** Longest wait of a client for the database while another session runs (default 10 min). */
  waitTimeoutMs?: number;
  /** Largest `COPY ... FROM STDIN` accepted, in bytes of data (default 512 MiB). */
  maxCopyBytes?: number;
  /** Called with each problem the server hides from its caller (a dropped client, ...). */
  onError?: (error: Error) => void;
}

export interface PGliteServer {
  readonly socketPath: string;
  /** Stops accepting clients, ends the open sessions, removes the socket file. */
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const COPY_FROM_STDIN = /^\s*copy\b[\s\S]*\bfrom\s+stdin\b/i;

/** Starts serving `db` on `options.socketPath`; see the module doc. */
export async function servePGlite(db: PGlite, options: PGliteServerOptions): Promise<PGliteServer> {
  const gate = new SessionGate();
  const sessions = new Set<Session>();
  const settings = {
    waitTimeoutMs: options.waitTimeoutMs ?? 10 * 60_000,
    maxCopyBytes: options.maxCopyBytes ?? 512 * 1024 * 1024,
    onError: options.onError ?? (() => {}),
  };
  mkdirSync(path.dirname(options.socketPath), { recursive: true });
  rmSync(options.socketPath, { force: true });
  const server = net.createServer((socket) => {
    const session = new Session(db, socket, gate, settings);
    sessions.add(session);
    void session.done.then(() => sessions.delete(session));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(options.socketPath, 0o600);
  return {
    socketPath: options.socketPath,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.end();
      await Promise.all([...sessions].map((s) => s.done));
      await closed;
      rmSync(options.socketPath, { force: true });
    },
  };
}

/** One session at a time: `acquire` resolves when the database is free. */
class SessionGate {
  private busy = false;
  private readonly waiting: Array<() => void> = [];

  acquire(timeoutMs: number): Promise<() => void> {
    return new Promise((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        this.busy = true;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.busy = false;
          this.waiting.shift()?.();
        });
      };
      const timer = setTimeout(() => {
        const index = this.waiting.indexOf(grant);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(
          new Error(
            `the embedded database stayed busy for ${Math.round(timeoutMs / 1000)} s (it serves one session at a time)`,
          ),
        );
      }, timeoutMs);
      timer.unref();
      if (this.busy) this.waiting.push(grant);
      else grant();
    });
  }
}

interface SessionSettings {
  waitTimeoutMs: number;
  maxCopyBytes: number;
  onError: (error: Error) => void;
}

/** One client connection: startup, then its messages in order, then cleanup. */
class Session {
  readonly done: Promise<void>;
  private buffer: Buffer = Buffer.alloc(0);
  private started = false;
  private release: (() => void) | null = null;
  private transactionStatus = 'I';
  /** The last bytes sent to the client, where a ReadyForQuery would be. */
  private tail: Buffer = Buffer.alloc(0);
  /** A `COPY ... FROM STDIN` being gathered: the query message and the data so far. */
  private copy: { query: Buffer; parts: Buffer[]; bytes: number } | null = null;
  private chain: Promise<void> = Promise.resolve();
  private ended = false;
  private markDone: () => void = () => {};

  constructor(
    private readonly db: PGlite,
    private readonly socket: net.Socket,
    private readonly gate: SessionGate,
    private readonly settings: SessionSettings,
  ) {
    this.done = new Promise((resolve) => {
      this.markDone = resolve;
    });
    socket.on('data', (chunk) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.chain = this.chain.then(() => this.drain()).catch((error) => this.fail(error));
    });
    socket.on('error', (error) => this.settings.onError(error));
    socket.on('close', () => this.end());
  }

  /** Ends the session: cleans up PGlite after the messages in flight, frees the gate. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.socket.destroy();
    this.chain = this.chain
      .then(() => this.cleanUp())
      .catch((error) => this.settings.onError(error));
    void this.chain.then(() => this.markDone());
  }

  private fail(error: unknown): void {
    this.settings.onError(error as Error);
    this.end();
  }

  /** Handles every complete message in the buffer. */
  private async drain(): Promise<void> {
    while (!this.ended) {
      if (!this.started) {
        if (this.buffer.length < 8) return;
        const length = this.buffer.readInt32BE(0);
        if (this.buffer.length < length) return;
        const message = this.take(length);
        await this.startup(message);
        continue;
      }
      if (this.buffer.length < 5) return;
      const length = this.buffer.readInt32BE(1) + 1;
      if (this.buffer.length < length) return;
      await this.message(this.take(length));
    }
  }

  private take(length: number): Buffer {
    const message = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    return message;
  }

  private async startup(message: Buffer): Promise<void> {
    const code = message.readInt32BE(4);
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      this.socket.write('N'); // no encryption on a local socket
      return;
    }
    if (code === CANCEL_REQUEST) {
      this.end(); // cancelling is not supported: the query runs to its end
      return;
    }
    try {
      this.release = await this.gate.acquire(this.settings.waitTimeoutMs);
    } catch (error) {
      this.socket.write(errorResponse('53300', (error as Error).message));
      this.end();
      return;
    }
    if (this.ended) return;
    this.started = true;
    await this.run(message);
  }

  private async message(message: Buffer): Promise<void> {
    const type = String.fromCharCode(message[0] ?? 0);
    if (this.copy !== null) {
      await this.copyMessage(type, message);
      return;
    }
    if (type === 'X') {
      this.end();
      return;
    }
    if (type === 'Q' && COPY_FROM_STDIN.test(queryText(message, 5))) {
      this.copy = { query: message, parts: [], bytes: 0 };
      this.socket.write(copyInResponse());
      return;
    }
    if (type === 'P' && COPY_FROM_STDIN.test(parseText(message))) {
      this.socket.write(
        errorResponse(
          '0A000',
          'COPY FROM STDIN through the extended query protocol is not supported by the embedded database; send it as a simple query',
        ),
      );
      this.end();
      return;
    }
    await this.run(message);
  }

  /** A message while a `COPY ... FROM STDIN` is gathered: data, done or fail. */
  private async copyMessage(type: string, message: Buffer): Promise<void> {
    const copy = this.copy;
    if (copy === null) return;
    if (type === 'd') {
      copy.bytes += message.length;
      if (copy.bytes > this.settings.maxCopyBytes) {
        this.socket.write(
          errorResponse(
            '54000',
            `COPY FROM STDIN into the embedded database is limited to ${this.settings.maxCopyBytes} bytes; copy in smaller parts or use a PostgreSQL server`,
          ),
        );
        this.end();
        return;
      }
      copy.parts.push(Buffer.from(message));
      return;
    }
    if (type === 'c' || type === 'f') {
      this.copy = null;
      // PGlite answers with its own CopyInResponse first; the client had ours already.
      await this.run(Buffer.concat([copy.query, ...copy.parts, message]), 'G');
      return;
    }
    if (type === 'H' || type === 'S') return; // Flush and Sync are ignored during a copy
    this.socket.write(
      errorResponse('08P01', `unexpected message '${type}' during COPY FROM STDIN`),
    );
    this.end();
  }

  /** Runs protocol messages on PGlite and streams the answer to the client. */
  private async run(messages: Buffer, dropFirst?: string): Promise<void> {
    let pending = Buffer.alloc(0);
    let dropping = dropFirst;
    const forward = (data: Uint8Array) => {
      let chunk = Buffer.from(data);
      if (dropping !== undefined) {
        pending = Buffer.concat([pending, chunk]);
        if (pending.length < 5) return;
        if (String.fromCharCode(pending[0] ?? 0) === dropping) {
          const length = pending.readInt32BE(1) + 1;
          if (pending.length < length) return;
          chunk = pending.subarray(length);
        } else {
          chunk = pending;
        }
        dropping = undefined;
      }
      this.trackStatus(chunk);
      if (chunk.length > 0 && !this.socket.destroyed) this.socket.write(chunk);
    };
    await this.db.execProtocolRawStream(messages, { onRawData: forward });
  }

  /** Remembers the transaction status of the last ReadyForQuery the answers carried. */
  private trackStatus(chunk: Buffer): void {
    // ReadyForQuery (`Z`, length 5, status byte) ends every answer to a sync point.
    this.tail = Buffer.concat([this.tail, chunk]).subarray(-6);
    if (this.tail.length === 6 && this.tail[0] === 0x5a && this.tail.readInt32BE(1) === 5) {
      this.transactionStatus = String.fromCharCode(this.tail[5] ?? 0x49);
    }
  }

  /** Leaves PGlite as a new session expects it, then lets the next client in. */
  private async cleanUp(): Promise<void> {
    const release = this.release;
    this.release = null;
    if (release === null) return;
    try {
      const statements = [...(this.transactionStatus === 'I' ? [] : ['rollback']), 'discard all'];
      for (const statement of statements) await this.db.exec(statement);
    } finally {
      release();
    }
  }
}

/** The text of a simple Query message (NUL-terminated after the header). */
function queryText(message: Buffer, offset: number): string {
  const end = message.indexOf(0, offset);
  return message.toString('utf8', offset, end < 0 ? message.length : end);
}

/** The query text of a Parse message: after the statement name. */
function parseText(message: Buffer): string {
  const nameEnd = message.indexOf(0, 5);
  return nameEnd < 0 ? '' : queryText(message, nameEnd + 1);
}

/** CopyInResponse: text format, no per-column formats (clients stream regardless). */
function copyInResponse(): Buffer {
  const message = Buffer.alloc(8);
  message.write('G', 0);
  message.writeInt32BE(7, 1);
  message.writeInt8(0, 5);
  message.writeInt16BE(0, 6);
  return message;
}

/** An ErrorResponse with severity ERROR, a SQLSTATE code and a message. */
function errorResponse(code: string, text: string): Buffer {
  const fields = Buffer.concat([
    field('S', 'ERROR'),
    field('V', 'ERROR'),
    field('C', code),
    field('M', text),
    Buffer.from([0]),
  ]);
  const header = Buffer.alloc(5);
  header.write('E', 0);
  header.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
}

function field(type: string, value: string): Buffer {
  return Buffer.concat([Buffer.from(type), Buffer.from(value, 'utf8'), Buffer.from([0])]);
}

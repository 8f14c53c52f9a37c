/**
 * Runs the PGlite server (`pglite-server.ts`) for one data folder in a child process of
 * its own (`pglite-server-main.ts`): the database's work (a COPY of a large table, say)
 * then never blocks the event loop of the process that started it — the scheduler, in a
 * standalone — and PGlite's memory lives and dies with the child. The child is started
 * again, with backoff, if it dies; `stop` closes the database cleanly.
 */
import { type ChildProcess, fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { UpdraftError } from '../core/errors.ts';
import { childExecArgv, RUNNING_FROM_SOURCE } from '../loader/runtime-paths.ts';
import { ensurePGliteDataDir } from '../store/pglite-data-dir.ts';
import { pgliteSocketPath, pgliteUrl } from './pglite-address.ts';
import type { PGliteServerReport } from './pglite-server-main.ts';

const ENTRY = fileURLToPath(
  new URL(`./pglite-server-main${RUNNING_FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url),
);

/** Where the server process reports what goes wrong. */
export interface PGliteServerLog {
  warn(message: string): void;
  error(message: string): void;
}

export interface PGliteServerProcess {
  /** The connection URL of the served folder (`pglite:///…`). */
  readonly url: string;
  readonly socketPath: string;
  /** Process id of the server process now (it changes when the process is started again). */
  pid(): number | undefined;
  /** Closes the database and ends the child process. */
  stop(): Promise<void>;
}

/** Whether something accepts connections on the Unix socket `socketPath`. */
export function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Creates the PGlite data folder `dataDir` if needed and serves it from a child process;
 * resolves once the socket accepts clients. Refuses a folder another process serves.
 */
export async function startPGliteServerProcess(
  dataDir: string,
  log: PGliteServerLog,
): Promise<PGliteServerProcess> {
  const socketPath = pgliteSocketPath(dataDir);
  if (await socketAnswers(socketPath)) {
    throw new UpdraftError(
      'pglite_in_use',
      `the embedded database ${dataDir} is already served by another process (socket ${socketPath}); stop it first`,
    );
  }
  await ensurePGliteDataDir(dataDir);
  let child = await spawn(dataDir, log);
  let stopping = false;
  let restarts = 0;
  const supervise = (current: ChildProcess) => {
    const startedAt = Date.now();
    current.once('exit', (code, signal) => {
      if (stopping) return;
      if (Date.now() - startedAt > 60_000) restarts = 0;
      const delay = Math.min(30_000, 1000 * 2 ** restarts);
      restarts += 1;
      log.error(
        `the server of the embedded database ${dataDir} exited (${signal ?? `code ${code}`}); starting it again in ${delay / 1000} s`,
      );
      const timer = setTimeout(() => {
        spawn(dataDir, log).then(
          (next) => {
            if (stopping) void stopChild(next);
            else {
              child = next;
              supervise(next);
            }
          },
          (error: Error) => log.error(error.message),
        );
      }, delay);
      timer.unref();
    });
  };
  supervise(child);
  return {
    url: pgliteUrl(dataDir),
    socketPath,
    pid: () => child.pid,
    async stop() {
      stopping = true;
      await stopChild(child);
    },
  };
}

/** Forks the server for `dataDir` and waits for it to be ready. */
function spawn(dataDir: string, log: PGliteServerLog): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = fork(ENTRY, [dataDir], {
      execArgv: childExecArgv(),
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2000);
    });
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      reject(
        new UpdraftError(
          'pglite_server_failed',
          `the server of the embedded database ${dataDir} did not start (${signal ?? `code ${code}`})${stderr.trim() ? `: ${stderr.trim()}` : ''}`,
        ),
      );
    child.once('exit', onExit);
    child.on('message', (message: PGliteServerReport) => {
      if (message.type === 'ready') {
        child.off('exit', onExit);
        resolve(child);
      } else if (message.type === 'problem') {
        log.warn(`embedded database ${dataDir}: ${message.message}`);
      }
    });
  });
}

/** Disconnects the child (it closes the database and exits); kills it after 10 s. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.connected) child.disconnect();
    else child.kill('SIGTERM');
  });
}

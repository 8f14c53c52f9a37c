/**
 * A long-running child process for the footprint benchmark (`updraft standalone`, or a
 * baseline process), started in its own process group so that it and everything it
 * starts are stopped together when the scope closes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { Scope } from './scope.ts';

/** A started child process and what it printed. */
export interface Service {
  pid: number;
  /** The last 64 KiB of its stdout and stderr. */
  output(): string;
  /** Whether it has exited. */
  exited(): boolean;
}

const KEEP_BYTES = 64 * 1024;

/**
 * Starts `command args` in `cwd`. On scope close it gets SIGTERM (so it can stop its
 * own children cleanly); if it has not exited 10 s later its whole process group gets
 * SIGKILL, and so does whatever of the group outlives it.
 */
export function startService(
  scope: Scope,
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Service {
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${command} ${args.join(' ')}`);
  const pid = child.pid;
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-KEEP_BYTES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let gone = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      gone = true;
      resolve();
    }),
  );
  scope.defer(`stop process group ${pid}`, async () => {
    if (gone) return;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), 10_000);
    await exit;
    clearTimeout(timer);
    signalGroup(pid, 'SIGKILL'); // whatever of the group outlived its leader
  });
  return { pid, output: () => output, exited: () => gone };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** Waits until `ready()` is true; fails with the service's output if it exits or `timeoutMs` passes. */
export async function waitUntil(
  service: Service,
  what: string,
  ready: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ready()) return;
    if (service.exited() || Date.now() > deadline) {
      throw new Error(
        `${what}: ${service.exited() ? 'the process exited' : `not ready after ${timeoutMs} ms`}; its output:\n${service.output()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

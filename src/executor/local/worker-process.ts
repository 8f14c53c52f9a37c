/**
 * One worker process of the local pool, seen from the parent: forks `worker-main`,
 * types the IPC messages, remembers the process groups the worker reported, and kills
 * the worker together with those groups.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { killProcessGroup } from '../../operators/process-groups.ts';
import type { AttemptError } from '../executor.ts';
import type { FromWorker, ToWorker, WorkerSettings } from './protocol.ts';

// Run from TypeScript sources (tests, `node --import tsx`), the worker needs tsx too.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const ENTRY = fileURLToPath(new URL(`./worker-main.${FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url));
const EXEC_ARGV = FROM_SOURCE
  ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href]
  : [];

/**
 * - `starting`: forked, not yet ready;
 * - `idle` / `busy`: in the pool, without / with an attempt;
 * - `retired`: out of the pool (recycled, killed or stopping), waiting to exit.
 */
export type WorkerState = 'starting' | 'idle' | 'busy' | 'retired';

export interface WorkerEvents {
  message(worker: WorkerProcess, message: FromWorker): void;
  /** The process is gone (`code`/`signal` as for the child's `exit` event). */
  exit(worker: WorkerProcess, code: number | null, signal: NodeJS.Signals | null): void;
}

export class WorkerProcess {
  state: WorkerState = 'starting';
  /** Pipeline versions (file and code hash) this worker has been given attempts of. */
  readonly versions = new Set<string>();
  /** Error the worker reported just before dying, if any. */
  fatalError: AttemptError | undefined;
  /** Resolves once the process has exited. */
  readonly exited: Promise<void>;

  private readonly child: ChildProcess;
  private readonly processGroups = new Set<number>();
  private gone = false;

  constructor(settings: WorkerSettings, env: NodeJS.ProcessEnv, events: WorkerEvents) {
    this.child = fork(ENTRY, [JSON.stringify(settings)], {
      execArgv: EXEC_ARGV,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env,
    });
    let markExited = () => {};
    this.exited = new Promise((resolve) => {
      markExited = resolve;
    });
    const onGone = (code: number | null, signal: NodeJS.Signals | null) => {
      if (this.gone) return;
      this.gone = true;
      this.killProcessGroups();
      events.exit(this, code, signal);
      markExited();
    };
    this.child.on('message', (message: FromWorker) => {
      if (message.type === 'process_group') {
        if (message.alive) this.processGroups.add(message.pgid);
        else this.processGroups.delete(message.pgid);
      } else if (message.type === 'fatal') {
        this.fatalError = message.error;
      }
      events.message(this, message);
    });
    this.child.on('exit', onGone);
    // Spawn failures (EAGAIN, ENOMEM) come as 'error' and possibly no 'exit'.
    this.child.on('error', (error) => {
      this.fatalError ??= { message: error.message, name: error.name };
      if (this.child.pid === undefined || this.child.exitCode !== null) onGone(null, null);
    });
  }

  /** The worker's pid (-1 if it could not be spawned). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Sends a message; a worker that has gone away is reported by its exit event instead. */
  send(message: ToWorker): void {
    if (this.gone || !this.child.connected) return;
    this.child.send(message, (error) => {
      if (error) this.kill();
    });
  }

  /** Asks the worker to exit (it kills its process groups first). */
  disconnect(): void {
    this.state = 'retired';
    if (this.child.connected) this.child.disconnect();
  }

  /** Kills the worker and every process group it reported, with SIGKILL. */
  kill(): void {
    this.state = 'retired';
    this.killProcessGroups();
    if (!this.gone) this.child.kill('SIGKILL');
  }

  private killProcessGroups(): void {
    for (const pgid of this.processGroups) killProcessGroup(pgid, 'SIGKILL');
    this.processGroups.clear();
  }
}

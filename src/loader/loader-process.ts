/**
 * The parent side of the loader process (`loader-process-main.ts`): a warm child
 * process that imports pipeline bundles one at a time and sends back their DAGs.
 *
 * - Started on first use and kept for later batches; restarted after `maxImports`
 *   imports, because ESM keeps every imported version in memory for good.
 * - A file whose import does not finish within `importTimeoutMs` (a top-level loop or an
 *   await that never ends), or that makes the process exit, gets an issue saying so; the
 *   process is replaced and the next file goes on.
 * - `importFile` never rejects: every outcome is a list of DAGs and issues.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { type Clock, systemClock } from '../core/clock.ts';
import type { SpecIssue } from '../core/errors.ts';
import type { ImportRequest, LoaderReply } from './loader-protocol.ts';
import type { SourceDag } from './pipeline-source.ts';
import { childExecArgv, loaderModulePath } from './runtime-paths.ts';

/** Options of `LoaderProcess`. */
export interface LoaderProcessOptions {
  /** Longest an import may take before the process is killed. Default 30 000 ms. */
  importTimeoutMs?: number;
  /** Imports before the process is replaced by a fresh one. Default 200. */
  maxImports?: number;
  /** Clock for the import timeout. Default: the system clock. */
  clock?: Clock;
}

/** The result of importing one file. */
export interface ImportOutcome {
  dags: SourceDag[];
  issues: SpecIssue[];
  /** True when the outcome says nothing about the code (timeout, crash): do not cache it. */
  failed: boolean;
}

/** Most output of the process kept for error messages. */
const OUTPUT_TAIL_CHARS = 2000;

export class LoaderProcess {
  private readonly importTimeoutMs: number;
  private readonly maxImports: number;
  private readonly clock: Clock;
  private child: ChildProcess | undefined;
  private starting: Promise<ChildProcess> | undefined;
  private imports = 0;
  private nextId = 1;
  private output = '';
  /** Requests run one after another. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: LoaderProcessOptions = {}) {
    this.importTimeoutMs = options.importTimeoutMs ?? 30_000;
    this.maxImports = options.maxImports ?? 200;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Imports the bundle of `fileloc` in the loader process (again, as a new module
   * instance, under `variant`; see `ImportRequest`).
   */
  importFile(fileloc: string, bundlePath: string, variant?: string): Promise<ImportOutcome> {
    const next = this.queue.then(() => this.run(fileloc, bundlePath, variant));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Stops the process (waits for the request in flight). Later imports start a new one. */
  async close(): Promise<void> {
    await this.queue;
    await this.stopChild();
  }

  private async run(
    fileloc: string,
    bundlePath: string,
    variant: string | undefined,
  ): Promise<ImportOutcome> {
    if (this.imports >= this.maxImports) await this.stopChild();
    let child: ChildProcess;
    try {
      child = await this.ensureChild();
    } catch (error) {
      return failure(fileloc, `the loader process did not start: ${messageOf(error)}`, this.output);
    }
    this.imports++;
    this.output = '';
    const id = this.nextId++;
    return new Promise<ImportOutcome>((resolve) => {
      let cancelTimer = () => {};
      const finish = (outcome: ImportOutcome) => {
        child.off('message', onMessage);
        child.off('exit', onExit);
        cancelTimer();
        resolve(outcome);
      };
      const onMessage = (reply: LoaderReply) => {
        if (reply.type === 'imported' && reply.id === id) {
          finish({ dags: reply.dags, issues: reply.issues, failed: false });
        }
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        this.forget(child);
        const how = signal === null ? `with code ${code}` : `on signal ${signal}`;
        finish(
          failure(
            fileloc,
            `the loader process exited ${how} while importing this file`,
            this.output,
            'does its top-level code call process.exit() or crash the process?',
          ),
        );
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      cancelTimer = this.clock.setTimer(this.importTimeoutMs, () => {
        this.forget(child);
        child.kill('SIGKILL');
        finish(
          failure(
            fileloc,
            `importing the file did not finish within ${this.importTimeoutMs} ms`,
            this.output,
            'does its top-level code loop forever or await something that never settles?',
          ),
        );
      });
      const request: ImportRequest = {
        type: 'import',
        id,
        fileloc,
        bundlePath,
        ...(variant === undefined ? {} : { variant }),
      };
      child.send(request);
    });
  }

  private forget(child: ChildProcess): void {
    if (this.child === child) {
      this.child = undefined;
      this.imports = 0;
    }
  }

  private ensureChild(): Promise<ChildProcess> {
    if (this.child !== undefined) return Promise.resolve(this.child);
    if (this.starting !== undefined) return this.starting;
    this.starting = new Promise<ChildProcess>((resolve, reject) => {
      const child = fork(loaderModulePath('loader-process-main'), [], {
        execArgv: childExecArgv(),
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        serialization: 'json',
      });
      const keep = (chunk: Buffer) => {
        this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      const onReady = (reply: LoaderReply) => {
        if (reply.type !== 'ready') return;
        child.off('message', onReady);
        child.off('exit', onEarlyExit);
        child.off('error', onEarlyExit);
        this.child = child;
        this.imports = 0;
        resolve(child);
      };
      const onEarlyExit = (codeOrError: unknown) => {
        child.off('message', onReady);
        reject(
          new Error(
            codeOrError instanceof Error
              ? codeOrError.message
              : `it exited with code ${String(codeOrError)}${this.output ? `: ${this.output.trim()}` : ''}`,
          ),
        );
      };
      child.on('message', onReady);
      child.once('exit', onEarlyExit);
      child.once('error', onEarlyExit);
    }).finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async stopChild(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.imports = 0;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      // The process exits on disconnect; kill it if it does not.
      if (child.connected) child.disconnect();
      else child.kill('SIGKILL');
      const cancel = this.clock.setTimer(5000, () => child.kill('SIGKILL'));
      child.once('exit', cancel);
    });
  }
}

function failure(fileloc: string, message: string, output: string, hint?: string): ImportOutcome {
  const tail = output.trim();
  const issue: SpecIssue = {
    file: fileloc,
    message: tail ? `${message}; its last output: ${tail}` : message,
  };
  if (hint !== undefined) issue.hint = hint;
  return { dags: [], issues: [issue], failed: true };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Test support for executors and the task runner: attempt requests built by hand (no
 * scheduler, task specs from test/support/specs.ts), a recorder of executor events with
 * promise-based waits, a pipeline file written with the authoring API and an executor
 * started on it, and a shell command that leaves a background process to look for.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Json, TaskSpec } from '../../src/core/dag-spec.ts';
import type { AttemptLogRecord } from '../../src/executor/attempt-log.ts';
import {
  type AttemptKey,
  type AttemptRequest,
  attemptKeyString,
  type Executor,
  type ExecutorEvent,
} from '../../src/executor/executor.ts';
import { importPipeline } from '../../src/loader/import-pipeline.ts';
import { taskSpec } from '../support/specs.ts';

/** A fresh temporary directory. */
export function tempDir(prefix = 'updraft-executor-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** DAG id of the pipeline written by `writeTestPipeline`. */
export const TEST_DAG = 'executor_tests';

/** A pipeline file and its code version. */
export interface TestPipeline {
  fileloc: string;
  codeHash: string;
}

/**
 * Writes `pipeline.ts` into `dir` (also the Updraft home of the test): one DAG with a
 * `ts` function per behaviour the tests need. Bundles it into `dir`'s cache, as the
 * loader would, and returns its path and code hash.
 */
export async function writeTestPipeline(dir: string): Promise<TestPipeline> {
  const fileloc = path.join(dir, 'pipeline.ts');
  writeFileSync(
    fileloc,
    `import { dag, SkipTask, TaskFailure } from 'updraft';

export default dag({ id: ${JSON.stringify(TEST_DAG)} }, (d) => {
  d.task('ok', (ctx) => {
    ctx.log.info('hello from ok', { n: 1 });
    return { rows: 3, ds: ctx.ds, param: ctx.params.greeting ?? null };
  });
  d.task('nothing', () => {});
  d.task('boom', () => {
    throw new Error('boom');
  });
  d.task('no_retry', () => {
    throw new TaskFailure('bad input', { retry: false });
  });
  d.task('skip', () => {
    throw new SkipTask('nothing to do today');
  });
  d.task('big', () => 'x'.repeat(100_000));
  d.task('date', () => ({ at: new Date(0) }) as never);
  d.task('wait', (ctx) => new Promise((_resolve, reject) => {
    ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
  }));
  d.task('ignore_abort', () => new Promise(() => {}));
  d.task('spin', () => {
    for (;;) {}
  });
  d.task('console', () => {
    console.log('printed by console.log');
    console.error('printed by console.error');
    return null;
  });
  d.task('crash', () => {
    setTimeout(() => {
      throw new Error('thrown from a timer');
    }, 0);
    return new Promise(() => {});
  });
});
`,
  );
  const { codeHash } = await importPipeline(fileloc, undefined, { home: dir });
  return { fileloc, codeHash };
}

let runCounter = 0;

export interface RequestOptions {
  /** Directory for the log file. */
  dir: string;
  fileloc: string;
  /** Default `test` (for shell tasks, which need no code). */
  codeHash?: string;
  taskId: string;
  /** Default `ts`. */
  operator?: string;
  /** Default `{}`. */
  config?: { [key: string]: Json };
  /** Other fields of the task spec, over the defaults of `taskSpec`. */
  task?: Partial<TaskSpec>;
  runId?: string;
  tryNumber?: number;
  params?: { [key: string]: Json };
}

/** An attempt request of the test DAG, with a unique run id unless given. */
export function attemptRequest(options: RequestOptions): AttemptRequest {
  const runId = options.runId ?? `manual__test_${process.pid}_${++runCounter}`;
  const key: AttemptKey = {
    dagId: TEST_DAG,
    runId,
    taskId: options.taskId,
    mapIndex: -1,
    tryNumber: options.tryNumber ?? 1,
  };
  return {
    key,
    fileloc: options.fileloc,
    codeHash: options.codeHash ?? 'test',
    task: taskSpec({
      taskId: options.taskId,
      operator: options.operator ?? 'ts',
      config: options.config ?? {},
      ...options.task,
    }),
    context: {
      runType: 'manual',
      logicalDate: '2024-05-01T02:00:00.000Z',
      dataIntervalStart: '2024-05-01T02:00:00.000Z',
      dataIntervalEnd: '2024-05-01T02:00:00.000Z',
      params: options.params ?? {},
      maxTries: 1,
      upstreamResults: {},
    },
    logPath: path.join(options.dir, 'logs', runId, `${options.taskId}.${key.tryNumber}.log`),
    datasetsRoot: path.join(options.dir, 'datasets'),
  };
}

/** What an attempt request of the test pipeline needs besides where the pipeline is. */
export type SubmitOptions = Omit<RequestOptions, 'dir' | 'fileloc' | 'codeHash'>;

/** An executor started on a fresh home that holds the test pipeline. */
export interface StartedExecutor<E extends Executor> {
  /** The home of the executor's workers, where the pipeline and the logs are. */
  dir: string;
  executor: E;
  events: EventRecorder;
  /** Submits an attempt of the test pipeline and returns its request. */
  submit(options: SubmitOptions): AttemptRequest;
}

/**
 * Writes the test pipeline into a fresh directory, makes an executor with it as home
 * (`make(home)`), records its events and starts it. The caller stops it.
 */
export async function startExecutor<E extends Executor>(
  make: (home: string) => E,
): Promise<StartedExecutor<E>> {
  const dir = tempDir();
  const pipeline = await writeTestPipeline(dir);
  const executor = make(dir);
  const events = new EventRecorder(executor);
  try {
    await executor.start();
  } catch (error) {
    await executor.stop();
    throw error;
  }
  const submit = (options: SubmitOptions): AttemptRequest => {
    const request = attemptRequest({ dir, ...pipeline, ...options });
    executor.submit(request);
    return request;
  };
  return { dir, executor, events, submit };
}

/**
 * A shell command that starts `sleep <seconds>` in the background, writes its pid to
 * `pidFile` and waits for it.
 */
export function sleeperCommand(pidFile: string, seconds = 30): string {
  return `sleep ${seconds} & echo $! > '${pidFile}'; wait`;
}

/** The pid a process wrote to `file`, once the file has it. */
export async function readPidFile(file: string): Promise<number> {
  let text = '';
  await waitUntil(() => {
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      return false;
    }
    return text !== '';
  }, `${file} is written`);
  return Number(text);
}

/** Reads an attempt log as records. */
export function readLog(logPath: string): AttemptLogRecord[] {
  return readFileSync(logPath, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as AttemptLogRecord);
}

type Finished = Extract<ExecutorEvent, { type: 'finished' }>;
type Started = Extract<ExecutorEvent, { type: 'started' }>;

/** Records an executor's events and resolves waits as they arrive. */
export class EventRecorder {
  readonly events: ExecutorEvent[] = [];
  private waiters: {
    test: (event: ExecutorEvent) => boolean;
    resolve: (e: ExecutorEvent) => void;
  }[] = [];

  constructor(executor: Executor) {
    executor.onEvent((event) => {
      this.events.push(event);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.test(event)) return true;
        waiter.resolve(event);
        return false;
      });
    });
  }

  /** The first event (past or future) that passes `test`. */
  next(test: (event: ExecutorEvent) => boolean): Promise<ExecutorEvent> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  started(key: AttemptKey): Promise<Started> {
    return this.next((e) => e.type === 'started' && same(e.key, key)) as Promise<Started>;
  }

  finished(key: AttemptKey): Promise<Finished> {
    return this.next((e) => e.type === 'finished' && same(e.key, key)) as Promise<Finished>;
  }

  heartbeat(key: AttemptKey): Promise<ExecutorEvent> {
    return this.next((e) => e.type === 'heartbeat' && same(e.key, key));
  }

  /** Events of one attempt, in order. */
  of(key: AttemptKey): ExecutorEvent[] {
    return this.events.filter((e) => same(e.key, key));
  }
}

function same(a: AttemptKey, b: AttemptKey): boolean {
  return attemptKeyString(a) === attemptKeyString(b);
}

/** Whether process `pid` is alive (a zombie counts as dead). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Resolves once `condition` holds, checking every 20 ms; rejects after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

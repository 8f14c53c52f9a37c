/**
 * Fault-injection support for the queue executor: a pipeline whose task records its side
 * effect in a ledger keyed by attempt, `updraft worker` processes started from the CLI
 * (so they can be killed and frozen), a driver that retries lost attempts as the
 * scheduler does, and the checks every fault test makes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { AttemptRequest, ExecutorEvent } from '../../../src/executor/executor.ts';
import { attemptKeyString } from '../../../src/executor/executor.ts';
import { importPipeline } from '../../../src/loader/import-pipeline.ts';
import {
  attemptRequest,
  type EventRecorder,
  TEST_DAG,
  type TestPipeline,
  waitUntil,
} from '../support.ts';
import { TEST_REDIS_URL } from './support.ts';

const MAIN = path.resolve(import.meta.dirname, '../../../src/cli/main.ts');

/**
 * Writes `pipeline.ts` into `dir`: the test DAG with one task, `effect`, that writes a
 * `start` line to the ledger (`params.ledger`), waits `params.ms` (honouring its abort
 * signal), then writes its `effect` line and returns its attempt key.
 */
export async function writeLedgerPipeline(dir: string): Promise<TestPipeline> {
  const fileloc = path.join(dir, 'pipeline.ts');
  writeFileSync(
    fileloc,
    `import { appendFileSync } from 'node:fs';
import { dag } from 'updraft';

export default dag({ id: ${JSON.stringify(TEST_DAG)} }, (d) => {
  d.task('effect', async (ctx) => {
    const key = ctx.runId + '/' + ctx.taskId + '/' + ctx.tryNumber;
    const ledger = String(ctx.params.ledger);
    const write = (event) =>
      appendFileSync(ledger, JSON.stringify({ key, event, at: Date.now(), pid: process.pid }) + '\\n');
    write('start');
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, Number(ctx.params.ms ?? 0));
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(ctx.signal.reason);
      });
    });
    write('effect');
    return { key };
  });
});
`,
  );
  const { codeHash } = await importPipeline(fileloc, undefined, { home: dir });
  return { fileloc, codeHash };
}

export interface LedgerEntry {
  key: string;
  event: 'start' | 'effect';
  at: number;
  pid: number;
}

export function readLedger(file: string): LedgerEntry[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LedgerEntry);
}

/** The ledger's key of an attempt request (run/task/try, as the pipeline writes it). */
export function ledgerKey(request: AttemptRequest): string {
  return `${request.key.runId}/${request.key.taskId}/${request.key.tryNumber}`;
}

/** An `updraft worker` process in its own process group. */
export interface WorkerProcessHandle {
  child: ChildProcess;
  pid: number;
  /** Its stderr (JSON log lines) so far. */
  stderr(): string;
  /** SIGTERM to the group, then SIGKILL if it has not exited within 10 s. */
  stop(): Promise<void>;
}

/** Starts `updraft worker` on `dir` (home and pipelines) and waits until it takes attempts. */
export async function spawnWorker(options: {
  dir: string;
  prefix: string;
  concurrency: number;
  queues?: string;
  redisUrl?: string;
  id: string;
}): Promise<WorkerProcessHandle> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      MAIN,
      '--home',
      options.dir,
      '--pipelines',
      options.dir,
      'worker',
      '--concurrency',
      String(options.concurrency),
      '--queues',
      options.queues ?? 'default',
      '--id',
      options.id,
    ],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        UPDRAFT_REDIS_URL: options.redisUrl ?? TEST_REDIS_URL,
        UPDRAFT_QUEUE_PREFIX: options.prefix,
        UPDRAFT_QUEUE_HEARTBEAT_MS: '100',
        NO_COLOR: '1',
      },
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await Promise.race([
    waitUntil(() => stdout.includes('running'), `worker ${options.id} is running`, 20_000),
    exited.then(() => {
      throw new Error(`worker ${options.id} exited at start: ${stderr}`);
    }),
  ]);
  const pid = child.pid ?? -1;
  return {
    child,
    pid,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup(pid, 'SIGCONT');
      signalGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Sends `signal` to the process group led by `pid` (ignoring a group that is gone). */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** The parent of process `pid` (from /proc). */
export function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

type Finished = Extract<ExecutorEvent, { type: 'finished' }>;

/** What happened to one task: each try's request and how it finished. */
export interface TaskHistory {
  tries: { request: AttemptRequest; finished: Finished }[];
}

/**
 * Runs `effect` tasks (one per run id) to the end as the scheduler would: a try that
 * ends `worker_lost` is submitted again with the next try number, up to `maxTries`.
 */
export async function runWithRetries(options: {
  dir: string;
  pipeline: TestPipeline;
  submit: (request: AttemptRequest) => void;
  events: EventRecorder;
  runIds: string[];
  ledger: string;
  ms: number;
  maxTries?: number;
  onSubmit?: (request: AttemptRequest) => void;
}): Promise<TaskHistory[]> {
  return Promise.all(
    options.runIds.map(async (runId) => {
      const history: TaskHistory = { tries: [] };
      for (let tryNumber = 1; tryNumber <= (options.maxTries ?? 3); tryNumber++) {
        const request = attemptRequest({
          dir: options.dir,
          ...options.pipeline,
          taskId: 'effect',
          runId,
          tryNumber,
          params: { ledger: options.ledger, ms: options.ms },
        });
        options.submit(request);
        options.onSubmit?.(request);
        const finished = await options.events.finished(request.key);
        history.tries.push({ request, finished });
        if (finished.exitReason !== 'worker_lost') break;
      }
      return history;
    }),
  );
}

/**
 * The checks of every fault test: each task succeeded in the end (no completion lost);
 * each submitted attempt finished exactly once; no attempt's effect is in the ledger
 * twice; the attempt whose success was reported has its effect in the ledger; and no
 * more than `limit` attempts ran at once.
 */
export function expectLedgerConsistent(
  histories: TaskHistory[],
  events: EventRecorder,
  ledgerFile: string,
  limit: number,
): void {
  const ledger = readLedger(ledgerFile);
  const effects = new Map<string, number>();
  for (const entry of ledger) {
    if (entry.event === 'effect') effects.set(entry.key, (effects.get(entry.key) ?? 0) + 1);
  }
  for (const [key, count] of effects) expect(count, `effects of ${key}`).toBe(1);
  for (const history of histories) {
    const last = history.tries.at(-1);
    expect(last?.finished.outcome, 'the task succeeds in the end').toBe('success');
    expect(last?.finished.result).toEqual({ key: last && ledgerKey(last.request) });
    expect(effects.get(ledgerKey(last!.request))).toBe(1);
    for (const { request } of history.tries) {
      const finished = events.of(request.key).filter((event) => event.type === 'finished');
      expect(finished, `finished events of ${attemptKeyString(request.key)}`).toHaveLength(1);
    }
  }
  expect(maxOverlap(ledger, histories)).toBeLessThanOrEqual(limit);
}

/** Most attempts running at once: from `start` to `effect`, or to the lost/cancelled end. */
export function maxOverlap(ledger: LedgerEntry[], histories: TaskHistory[]): number {
  const ends = new Map<string, number>();
  for (const history of histories) {
    for (const { request, finished } of history.tries) ends.set(ledgerKey(request), finished.at);
  }
  for (const entry of ledger) if (entry.event === 'effect') ends.set(entry.key, entry.at);
  const points: [number, number][] = [];
  for (const entry of ledger) {
    if (entry.event !== 'start') continue;
    points.push([entry.at, 1], [ends.get(entry.key) ?? Number.POSITIVE_INFINITY, -1]);
  }
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let most = 0;
  for (const [, delta] of points) {
    current += delta;
    most = Math.max(most, current);
  }
  return most;
}

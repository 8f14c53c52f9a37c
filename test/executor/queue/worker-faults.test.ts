/**
 * Fault injection on `updraft worker` processes: killed with SIGKILL mid-task, frozen
 * with SIGSTOP past the lease and resumed. The test process plays the scheduler: it
 * retries an attempt that ends `worker_lost` with the next try number. Each test counts
 * the side effects in a ledger keyed by attempt (see `faults.ts`).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QueueExecutor } from '../../../src/executor/queue/queue-executor.ts';
import { EventRecorder, type TestPipeline, tempDir, waitUntil } from '../support.ts';
import {
  expectLedgerConsistent,
  ledgerKey,
  parentPid,
  readLedger,
  runWithRetries,
  signalGroup,
  spawnWorker,
  type WorkerProcessHandle,
  writeLedgerPipeline,
} from './faults.ts';
import { deleteKeys, requireRedis, testExecutorOptions, uniquePrefix } from './support.ts';

const LEASE_MS = 2000;
/** The documented bound: the lease plus one tick (a quarter lease), plus slack for a busy machine. */
const DETECTION_BOUND_MS = LEASE_MS + LEASE_MS / 4 + 2000;

describe('queue executor: worker faults', () => {
  let dir: string;
  let prefix: string;
  let pipeline: TestPipeline;
  let ledger: string;
  let executor: QueueExecutor;
  let events: EventRecorder;
  let workers: WorkerProcessHandle[];

  beforeEach(async () => {
    await requireRedis();
    dir = tempDir('updraft-queue-faults-');
    prefix = uniquePrefix();
    pipeline = await writeLedgerPipeline(dir);
    ledger = path.join(dir, 'ledger.jsonl');
    workers = await Promise.all(
      ['w1', 'w2'].map((id) => spawnWorker({ dir, prefix, concurrency: 1, id })),
    );
    executor = new QueueExecutor(testExecutorOptions(prefix, dir, { leaseMs: LEASE_MS }));
    events = new EventRecorder(executor);
    await executor.start();
  });

  afterEach(async () => {
    await executor?.stop();
    await Promise.all((workers ?? []).map((worker) => worker.stop()));
    if (prefix) await deleteKeys(prefix);
  });

  const runIds = (n: number) =>
    Array.from({ length: n }, (_, i) => `manual__fault_${randomBytes(4).toString('hex')}_${i}`);

  it('a worker killed with SIGKILL mid-task: its attempt is lost within the lease and retried on another worker', async () => {
    const running = runWithRetries({
      dir,
      pipeline,
      submit: (request) => executor.submit(request),
      events,
      runIds: runIds(4),
      ledger,
      ms: 1500,
    });
    const started = await events.next((e) => e.type === 'started');
    if (started.type !== 'started') throw new Error('expected a started event');
    const victim = parentPid(started.pid);
    expect(workers.map((w) => w.pid)).toContain(victim);
    process.kill(victim, 'SIGKILL');
    const killedAt = Date.now();

    const histories = await running;
    const lost = await events.finished(started.key);
    expect(lost).toMatchObject({ outcome: 'failed', exitReason: 'worker_lost' });
    expect(lost.error?.message).toContain(`lease ${LEASE_MS} ms`);
    expect(lost.at - killedAt).toBeLessThan(DETECTION_BOUND_MS);
    const retried = histories.find((h) => h.tries[0]?.request.key.runId === started.key.runId);
    expect(retried?.tries.map((t) => t.finished.exitReason)).toEqual(['worker_lost', 'success']);
    // The killed attempt never got to its effect; its retry did, once.
    const effects = readLedger(ledger).filter((e) => e.event === 'effect');
    expect(effects.map((e) => e.key)).not.toContain(
      `${started.key.runId}/effect/${started.key.tryNumber}`,
    );
    expectLedgerConsistent(histories, events, ledger, 2);
  });

  it('a worker frozen with SIGSTOP past its lease: the attempt is lost and retried; after SIGCONT its reports are refused', async () => {
    const running = runWithRetries({
      dir,
      pipeline,
      submit: (request) => executor.submit(request),
      events,
      runIds: runIds(3),
      ledger,
      ms: 1500,
    });
    const started = await events.next((e) => e.type === 'started');
    if (started.type !== 'started') throw new Error('expected a started event');
    const frozen = parentPid(started.pid);
    const worker = workers.find((w) => w.pid === frozen);
    expect(worker).toBeDefined();
    signalGroup(frozen, 'SIGSTOP');
    const stoppedAt = Date.now();

    const lost = await events.finished(started.key);
    expect(lost).toMatchObject({ outcome: 'failed', exitReason: 'worker_lost' });
    expect(lost.at - stoppedAt).toBeLessThan(DETECTION_BOUND_MS);
    signalGroup(frozen, 'SIGCONT');

    const histories = await running;
    await waitUntil(
      () => worker!.stderr().includes('the executor gave this attempt up'),
      'the resumed worker learns that its attempt was revoked',
    );
    // The stale attempt's late reports never became events: one finished, the lost one.
    const events1 = events.of(started.key).filter((e) => e.type === 'finished');
    expect(events1).toEqual([lost]);
    expect(executor.capacity().inFlight).toBe(0);
    // Its effect may have happened (it was running when frozen) but is recorded once at
    // most, under its own attempt; the scheduler only ever sees the retry's success.
    const staleKey = `${started.key.runId}/effect/${started.key.tryNumber}`;
    const staleEffects = readLedger(ledger).filter(
      (e) => e.key === staleKey && e.event === 'effect',
    );
    expect(staleEffects.length).toBeLessThanOrEqual(1);
    const retried = histories.find((h) => h.tries[0]?.request.key.runId === started.key.runId);
    expect(retried?.tries.map((t) => ledgerKey(t.request))).toEqual([
      staleKey,
      `${started.key.runId}/effect/2`,
    ]);
    expectLedgerConsistent(histories, events, ledger, 2);
  });
});

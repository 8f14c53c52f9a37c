import { rm, utimes } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { DagProcessor, type DagProcessorOptions } from '../../src/loader/dag-processor.ts';
import type { FileLoadResult } from '../../src/loader/file-load-result.ts';
import { pipelineText, tempDir, tempPipelines, writeText } from './helpers.ts';

type ProcessorEvent =
  | { type: 'result'; result: FileLoadResult }
  | { type: 'removed'; fileloc: string };

/** Records what a DagProcessor reports; `next` waits for a matching report. */
class Reports {
  readonly events: ProcessorEvent[] = [];
  private waiters: {
    match: (e: ProcessorEvent) => boolean;
    resolve: (e: ProcessorEvent) => void;
  }[] = [];
  private taken = new Set<ProcessorEvent>();

  push(event: ProcessorEvent): void {
    this.events.push(event);
    for (const waiter of [...this.waiters]) {
      if (!this.taken.has(event) && waiter.match(event)) {
        this.taken.add(event);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(event);
      }
    }
  }

  next(match: (e: ProcessorEvent) => boolean): Promise<ProcessorEvent> {
    const ready = this.events.find((e) => !this.taken.has(e) && match(e));
    if (ready !== undefined) {
      this.taken.add(ready);
      return Promise.resolve(ready);
    }
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  result(fileloc: string): Promise<FileLoadResult> {
    return this.next((e) => e.type === 'result' && e.result.fileloc === fileloc).then(
      (e) => (e as { result: FileLoadResult }).result,
    );
  }
}

async function startProcessor(
  pipelinesDir: string,
  options: Partial<DagProcessorOptions> = {},
): Promise<{ processor: DagProcessor; reports: Reports; initial: FileLoadResult[] }> {
  const reports = new Reports();
  const errors: Error[] = [];
  const processor = new DagProcessor({
    pipelinesDir,
    home: await tempDir('updraft-home-'),
    debounceMs: 20,
    rescanIntervalMs: 3_600_000,
    onResult: (result) => reports.push({ type: 'result', result }),
    onRemoved: (fileloc) => reports.push({ type: 'removed', fileloc }),
    onError: (error) => errors.push(error),
    ...options,
  });
  onTestFinished(async () => {
    await processor.stop();
    expect(errors).toEqual([]);
  });
  const initial = await processor.start();
  return { processor, reports, initial };
}

const dagIds = (result: FileLoadResult) => result.dags.map((d) => d.spec.dagId);

describe('DagProcessor', () => {
  it('loads everything at start, then picks up a changed file from a watch event', async () => {
    const dir = await tempPipelines({
      'a.ts': pipelineText('a', 'one'),
      'b.ts': pipelineText('b'),
    });
    const { reports, initial } = await startProcessor(dir);
    expect(initial.map(dagIds)).toEqual([['a'], ['b']]);
    expect(reports.events).toEqual([]);
    const before = initial[0]?.dags[0]?.versionHash;

    await writeText(path.join(dir, 'a.ts'), pipelineText('a', 'second'));
    const changed = await reports.result(path.join(dir, 'a.ts'));
    expect(dagIds(changed)).toEqual(['a']);
    expect(changed.dags[0]?.versionHash).not.toBe(before);
    expect(changed.codeHash).not.toBe(initial[0]?.codeHash);
  });

  it('reports new and removed files', async () => {
    const dir = await tempPipelines({ 'a.ts': pipelineText('a') });
    const { reports } = await startProcessor(dir);
    await writeText(path.join(dir, 'sub/new.ts'), pipelineText('fresh'));
    expect(dagIds(await reports.result(path.join(dir, 'sub/new.ts')))).toEqual(['fresh']);
    await rm(path.join(dir, 'a.ts'));
    expect(await reports.next((e) => e.type === 'removed')).toEqual({
      type: 'removed',
      fileloc: path.join(dir, 'a.ts'),
    });
  });

  it('reloads a pipeline when a helper module it imports changes', async () => {
    const dir = await tempPipelines({
      'p.ts': [
        "import { dag } from 'updraft';",
        "import { RETRIES } from './lib/settings.ts';",
        "export default dag({ id: 'p' }, (d) => { d.task('t', { retries: RETRIES }, () => null); });",
        '',
      ].join('\n'),
      'lib/settings.ts': 'export const RETRIES = 1;\n',
    });
    const { reports, initial } = await startProcessor(dir);
    expect(initial.find((r) => r.fileloc.endsWith('p.ts'))?.dags[0]?.spec.tasks[0]?.retries).toBe(
      1,
    );
    await writeText(path.join(dir, 'lib/settings.ts'), 'export const RETRIES = 42;\n');
    const reloaded = await reports.result(path.join(dir, 'p.ts'));
    expect(reloaded.dags[0]?.spec.tasks[0]?.retries).toBe(42);
  });

  it('rescans periodically without a watcher, on its clock', async () => {
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    const dir = await tempPipelines({ 'a.ts': pipelineText('a', 'one') });
    const { reports } = await startProcessor(dir, {
      watch: false,
      clock,
      rescanIntervalMs: 30_000,
    });
    await writeText(path.join(dir, 'a.ts'), pipelineText('a', 'three'));
    clock.advance(30_000);
    const changed = await reports.result(path.join(dir, 'a.ts'));
    expect(dagIds(changed)).toEqual(['a']);
  });

  it('reports nothing for a touched file whose code did not change', async () => {
    const dir = await tempPipelines({ 'a.ts': pipelineText('a') });
    const { processor, reports } = await startProcessor(dir, { watch: false });
    const later = new Date(Date.now() + 60_000);
    await utimes(path.join(dir, 'a.ts'), later, later);
    await processor.refresh();
    expect(reports.events).toEqual([]);
  });

  it('hands a DAG id to the next file when the file that owned it goes away', async () => {
    const dir = await tempPipelines({
      'a.ts': pipelineText('shared', 'a'),
      'b.ts': pipelineText('shared', 'b'),
    });
    const { processor, reports, initial } = await startProcessor(dir, { watch: false });
    expect(initial.map(dagIds)).toEqual([['shared'], []]);
    expect(initial[1]?.issues[0]?.message).toContain("dag id 'shared' is already defined in");

    await rm(path.join(dir, 'a.ts'));
    await processor.refresh();
    expect(reports.events).toEqual([
      { type: 'removed', fileloc: path.join(dir, 'a.ts') },
      {
        type: 'result',
        result: expect.objectContaining({ fileloc: path.join(dir, 'b.ts'), issues: [] }),
      },
    ]);
    const b = reports.events[1];
    expect(b?.type === 'result' && dagIds(b.result)).toEqual(['shared']);
  });

  it('reports a file that breaks, and its recovery', async () => {
    const dir = await tempPipelines({ 'a.ts': pipelineText('a') });
    const { processor, reports } = await startProcessor(dir, { watch: false });
    await writeText(
      path.join(dir, 'a.ts'),
      "import { dag } from 'updraft';\nthrow new Error('oops');\n",
    );
    await processor.refresh();
    const broken = await reports.result(path.join(dir, 'a.ts'));
    expect(broken.dags).toEqual([]);
    expect(broken.issues[0]).toMatchObject({ line: 2, message: expect.stringContaining('oops') });

    await writeText(path.join(dir, 'a.ts'), pipelineText('a', 'fixed'));
    await processor.refresh();
    const fixed = await reports.result(path.join(dir, 'a.ts'));
    expect(fixed).toMatchObject({
      issues: [],
      dags: [expect.objectContaining({ versionHash: expect.any(String) })],
    });
  });
});

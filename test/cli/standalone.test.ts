/**
 * `updraft standalone` and the commands that reach it through the control socket, all
 * as real processes: health, listings and their JSON shapes, trigger --wait and its exit
 * codes, errors re-raised from the server, logs, a second server refused, a clean stop,
 * and a restart after a crash that picks up where it was.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  DagSummary,
  PlannedRunInfo,
  RunDetail,
  RunSummary,
  TaskInstanceDetail,
} from '../../src/ops/operations.ts';
import { type Background, createWorkspace, runCli, startCli, type Workspace } from './helpers.ts';

let ws: Workspace;
let server: Background;
let baseUrl: string;

async function startStandalone(): Promise<Background> {
  const process = startCli(['standalone', '--port', '0', '--workers', '1', ...ws.args]);
  await process.waitFor(/Press Ctrl-C to stop/);
  const match = /web +(http:\/\/\S+)/.exec(process.output());
  if (!match?.[1]) throw new Error(`no URL in:\n${process.output()}`);
  baseUrl = match[1];
  return process;
}

async function cli(...args: string[]) {
  return runCli([...args, ...ws.args]);
}

beforeAll(async () => {
  ws = createWorkspace();
  server = await startStandalone();
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  ws?.remove();
});

describe('updraft standalone', () => {
  it('says what it did', () => {
    const out = server.output();
    expect(out).toMatch(/Updraft \S+ standalone running/);
    expect(out).toContain(`home       ${ws.home}`);
    expect(out).toMatch(/pipelines +\S+: 3 DAGs/);
    expect(out).toMatch(/workers +1/);
    expect(out).toContain(`control    ${path.join(ws.home, 'control.sock')}`);
    expect(out).toContain(`task logs  ${path.join(ws.home, 'logs')}`);
  });

  it('serves GET /health', async () => {
    const response = await fetch(`${baseUrl}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'ok',
      store: 'pglite',
      scheduler: { running: true },
    });
  });

  it('lists DAGs over the control socket (--json is DagSummary[])', async () => {
    const { code, stdout } = await cli('dags', 'list', '--json');
    expect(code).toBe(0);
    const dags = JSON.parse(stdout) as DagSummary[];
    expect(dags.map((d) => d.dagId)).toEqual(['broken', 'hello', 'quick']);
    expect(dags.find((d) => d.dagId === 'quick')).toMatchObject({
      tags: ['fast'],
      isPaused: false,
    });

    const table = await cli('dags', 'list', '--tag', 'fast');
    expect(table.stdout).toMatch(/^DAG +SCHEDULE +PAUSED +NEXT RUN +LAST RUN +OWNER +TAGS$/m);
    expect(table.stdout).toMatch(/^quick +manual +no /m);
    expect(table.stdout).not.toMatch(/^hello/m);
  });

  it('prints next runs as PlannedRunInfo[] in ISO 8601 UTC', async () => {
    const { code, stdout } = await cli(
      'dags',
      'next-runs',
      'hello',
      '--after',
      '2024-03-10T00:00:00Z',
      '--count',
      '2',
      '--json',
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout) as PlannedRunInfo[]).toEqual([
      {
        dataIntervalStart: '2024-03-09T02:00:00.000Z',
        dataIntervalEnd: '2024-03-10T02:00:00.000Z',
        runAfter: '2024-03-10T02:00:00.000Z',
        logicalDate: '2024-03-09T02:00:00.000Z',
      },
      {
        dataIntervalStart: '2024-03-10T02:00:00.000Z',
        dataIntervalEnd: '2024-03-11T02:00:00.000Z',
        runAfter: '2024-03-11T02:00:00.000Z',
        logicalDate: '2024-03-10T02:00:00.000Z',
      },
    ]);
  });

  it('triggers a run and waits for it (exit 0 on success)', async () => {
    const { code, stdout } = await cli(
      'dags',
      'trigger',
      'quick',
      '--run-id',
      't1',
      '--params',
      '{"n": 21}',
      '--wait',
      '--json',
    );
    expect(code).toBe(0);
    const run = JSON.parse(stdout) as RunDetail;
    expect(run).toMatchObject({ runId: 't1', state: 'success', params: { n: 21 } });
    expect(run.tasks.map((t) => [t.taskId, t.state])).toEqual([
      ['first', 'success'],
      ['double', 'success'],
    ]);
    const state = await cli('tasks', 'state', 'quick', 't1', 'double', '--json');
    expect((JSON.parse(state.stdout) as TaskInstanceDetail).result).toBe(42);
  });

  it('exits 1 when the waited-for run fails', async () => {
    const { code, stdout } = await cli('dags', 'trigger', 'broken', '--run-id', 'b1', '--wait');
    expect(code).toBe(1);
    expect(stdout).toMatch(/^boom +failed /m);
    expect(stdout).toMatch(/^after +upstream_failed /m);
  });

  it('re-raises the server errors: params naming the field, not found, conflict (exit 1)', async () => {
    const params = await cli('dags', 'trigger', 'quick', '--params', '{"n": "many"}');
    expect(params.code).toBe(1);
    expect(params.stderr).toMatch(/^error: dag 'quick': param 'n': /);

    const missing = await cli('dags', 'show', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/^error: .*nope/);

    const twice = await cli('dags', 'trigger', 'quick', '--run-id', 't1');
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/^error: .*'t1'/);
  });

  it('lists runs and prints task logs', async () => {
    const runs = JSON.parse((await cli('runs', 'list', 'quick', '--json')).stdout) as RunSummary[];
    expect(runs.map((r) => r.runId)).toContain('t1');

    const logs = await cli('tasks', 'logs', 'quick', 't1', 'first');
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/^\S+Z INFO {2}computing n=21$/m);

    // --follow on an attempt that has ended prints what there is and returns.
    const followed = await cli('tasks', 'logs', 'quick', 't1', 'first', '--follow');
    expect(followed.code).toBe(0);
    expect(followed.stdout).toBe(logs.stdout);

    const raw = await cli('tasks', 'logs', 'quick', 't1', 'first', '--attempt', '1', '--json');
    const lines = raw.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.msg === 'computing')).toMatchObject({ task_id: 'first', n: 21 });
  });

  it('pauses and unpauses a DAG', async () => {
    expect((await cli('dags', 'pause', 'hello')).stdout).toBe('hello paused\n');
    const paused = JSON.parse((await cli('dags', 'list', '--paused', '--json')).stdout);
    expect((paused as DagSummary[]).map((d) => d.dagId)).toEqual(['hello']);
    expect((await cli('dags', 'unpause', 'hello')).code).toBe(0);
    expect(JSON.parse((await cli('dags', 'list', '--paused', '--json')).stdout)).toEqual([]);
  });

  it('sets and lists pools', async () => {
    const set = await cli('pools', 'set', 'db', '3', '--description', 'the warehouse', '--json');
    expect(JSON.parse(set.stdout)).toMatchObject({ name: 'db', slots: 3, occupied: 0 });
    const list = await cli('pools', 'list');
    expect(list.stdout).toMatch(/^db +3 +0 +the warehouse$/m);
  });

  it('clears a task with its downstream', async () => {
    expect((await cli('dags', 'trigger', 'quick', '--run-id', 'c1', '--wait')).code).toBe(0);
    const { code, stdout } = await cli(
      'tasks',
      'clear',
      'quick',
      'c1',
      'first',
      '--downstream',
      '--yes',
      '--json',
    );
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { cleared: string[] }).cleared.sort()).toEqual([
      'double',
      'first',
    ]);
  });

  it('creates, lists and cancels a backfill', async () => {
    const created = await cli(
      'dags',
      'backfill',
      'hello',
      '--from',
      '2024-03-01',
      '--to',
      // Inclusive: the logical dates 2024-03-01T02:00Z and 2024-03-02T02:00Z.
      '2024-03-02T02:00:00Z',
      '--max-active-runs',
      '1',
      '--json',
    );
    expect(created.code).toBe(0);
    const backfill = JSON.parse(created.stdout) as { id: number; runIds: string[] };
    expect(backfill).toMatchObject({ dagId: 'hello', reprocess: 'none', maxActiveRuns: 1 });
    expect(backfill.runIds).toHaveLength(2);
    const list = await cli('backfills', 'list', '--dag', 'hello', '--json');
    expect((JSON.parse(list.stdout) as { id: number }[]).map((b) => b.id)).toContain(backfill.id);
    const cancelled = await cli('backfills', 'cancel', String(backfill.id), '--json');
    expect(JSON.parse(cancelled.stdout)).toMatchObject({ id: backfill.id, state: 'cancelled' });
  });

  it('refuses db migrate while the server holds the store', async () => {
    const { code, stderr } = await cli('db', 'migrate');
    expect(code).toBe(1);
    expect(stderr).toMatch(
      new RegExp(`^error: .*in use by 'updraft standalone' \\(pid ${server.child.pid} `),
    );
  });

  it('refuses a second server on the same home, naming the first', async () => {
    const second = await cli('standalone', '--port', '0');
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      new RegExp(`in use by 'updraft standalone' \\(pid ${server.child.pid} `),
    );
  });

  it('stops cleanly on Ctrl-C, and a restart after a crash resumes with its runs', async () => {
    expect(await server.stop('SIGINT')).toBe(0);
    expect(server.output()).toMatch(/SIGINT: stopping[\s\S]*stopped\n$/);
    expect(fs.existsSync(path.join(ws.home, 'updraft.lock'))).toBe(false);
    expect(fs.existsSync(path.join(ws.home, 'control.sock'))).toBe(false);

    // Crash: no cleanup at all, lock and socket are left behind.
    server = await startStandalone();
    await server.stop('SIGKILL');
    expect(fs.existsSync(path.join(ws.home, 'updraft.lock'))).toBe(true);

    server = await startStandalone();
    const run = JSON.parse(
      (await cli('runs', 'show', 'quick', 't1', '--json')).stdout,
    ) as RunDetail;
    expect(run.state).toBe('success');
    const again = await cli('dags', 'trigger', 'quick', '--run-id', 't2', '--wait');
    expect(again.code).toBe(0);
  });
});

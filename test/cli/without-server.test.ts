/**
 * Commands on the embedded store with no server running: each opens the store itself,
 * under the lock, and leaves no lock behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DagSummary } from '../../src/ops/operations.ts';
import { createWorkspace, runCli, type Workspace } from './helpers.ts';

let ws: Workspace;

beforeAll(() => {
  ws = createWorkspace();
});

afterAll(() => ws.remove());

async function cli(...args: string[]) {
  return runCli([...args, ...ws.args]);
}

describe('without a running server', () => {
  it('db migrate applies the migrations once', async () => {
    const first = await cli('db', 'migrate');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied \d+ migration\(s\): 0001-initial/m);
    const second = await cli('db', 'migrate');
    expect(second.stdout).toMatch(/^the store is up to date$/m);
    expect(fs.existsSync(path.join(ws.home, 'updraft.lock'))).toBe(false);
  });

  it('dags list reads the pipelines folder into the store and releases the lock', async () => {
    const { code, stdout } = await cli('dags', 'list', '--json');
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as DagSummary[]).map((d) => d.dagId)).toEqual([
      'broken',
      'hello',
      'quick',
    ]);
    expect(fs.existsSync(path.join(ws.home, 'updraft.lock'))).toBe(false);
  });

  it('dags trigger queues the run and says no scheduler runs; --wait refuses (exit 1)', async () => {
    const queued = await cli('dags', 'trigger', 'quick', '--run-id', 'q1');
    expect(queued.code).toBe(0);
    expect(queued.stdout).toMatch(/^triggered quick run q1 /m);
    expect(queued.stdout).toMatch(/no scheduler is running on this store/);

    const wait = await cli('dags', 'trigger', 'quick', '--wait');
    expect(wait.code).toBe(1);
    expect(wait.stderr).toMatch(/^error: --wait needs a running scheduler/);
  });
});

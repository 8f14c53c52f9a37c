/**
 * `updraft scheduler`: the same process as standalone without the HTTP server unless
 * asked, stopped by SIGTERM.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, runCli, startCli, type Workspace } from './helpers.ts';

let ws: Workspace;

beforeAll(() => {
  ws = createWorkspace();
});

afterAll(() => ws.remove());

describe('updraft scheduler', () => {
  it('runs without a web server, serves the CLI, and stops on SIGTERM', async () => {
    const scheduler = startCli(['scheduler', '--workers', '1', ...ws.args]);
    try {
      await scheduler.waitFor(/Press Ctrl-C to stop/);
      expect(scheduler.output()).toMatch(/Updraft \S+ scheduler running/);
      expect(scheduler.output()).toMatch(/web +off \(use --port N\)/);
      const run = await runCli(['dags', 'trigger', 'quick', '--wait', ...ws.args]);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^double +success /m);
    } finally {
      expect(await scheduler.stop('SIGTERM')).toBe(0);
    }
    expect(scheduler.output()).toMatch(/SIGTERM: stopping/);
    expect(fs.existsSync(path.join(ws.home, 'updraft.lock'))).toBe(false);
  });
});

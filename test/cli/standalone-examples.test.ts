/**
 * `updraft standalone` with the example shop (the default outside these tests): the
 * first start seeds the embedded source and serves it, the example pipeline reads it
 * and succeeds, `updraft examples seed` writes through the running server, and Ctrl-C
 * stops the source's server with the rest. A bad `UPDRAFT_EXAMPLES` stops the start.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pgliteSocketPath } from '../../src/data/pglite-address.ts';
import { embeddedSourceDir } from '../../src/examples/example-source.ts';
import type { RunSummary } from '../../src/ops/operations.ts';
import { createWorkspace, runCli, startCli, type Workspace } from './helpers.ts';

const PIPELINE = path.join(import.meta.dirname, '../../pipelines/customer_features.yaml');
const workspaces: Workspace[] = [];

function examplesWorkspace(): Workspace {
  const ws = createWorkspace();
  workspaces.push(ws);
  fs.rmSync(ws.pipelines, { recursive: true, force: true });
  fs.mkdirSync(ws.pipelines);
  fs.copyFileSync(PIPELINE, path.join(ws.pipelines, 'customer_features.yaml'));
  return ws;
}

afterAll(() => {
  for (const ws of workspaces) ws.remove();
});

describe('updraft standalone with the example shop', () => {
  it('seeds and serves the source on the first start; the example pipeline reads it', async () => {
    const ws = examplesWorkspace();
    const server = startCli(['standalone', '--port', '0', '--workers', '1', ...ws.args], {
      UPDRAFT_EXAMPLES: 'true',
    });
    try {
      await server.waitFor(/Press Ctrl-C to stop/);
      const out = server.output();
      expect(out).toContain('seeding the example shop (scale 1) into the embedded source');
      expect(out).toMatch(/\[9\/9\] service_metrics: \d+ rows/);
      expect(out).toMatch(
        new RegExp(
          `examples +shop_source = embedded PGlite ${embeddedSourceDir(ws.home)}, seeded \\d+ rows`,
        ),
      );
      const socket = pgliteSocketPath(embeddedSourceDir(ws.home));
      expect(fs.existsSync(socket)).toBe(true);

      // customer_features has catchup off: its latest interval runs at once.
      const deadline = Date.now() + 240_000;
      let runs: RunSummary[] = [];
      while (Date.now() < deadline) {
        const listed = await runCli(['runs', 'list', 'customer_features', '--json', ...ws.args]);
        runs = JSON.parse(listed.stdout) as RunSummary[];
        if (runs.some((r) => r.state === 'success' || r.state === 'failed')) break;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      expect(runs.map((r) => r.state)).toEqual(['success']);

      const reseed = await runCli(['examples', 'seed', '--scale', '0.05', ...ws.args]);
      expect(reseed.stderr).toBe('');
      expect(reseed.code).toBe(0);
      expect(reseed.stdout).toContain('served');
      expect(reseed.stdout).toMatch(/seeded \d+ rows in 9 tables/);

      expect(await server.stop('SIGINT')).toBe(0);
      expect(fs.existsSync(socket)).toBe(false);
    } finally {
      await server.stop('SIGKILL');
    }
  }, 420_000);

  it('refuses an UPDRAFT_EXAMPLES that is neither true nor false', async () => {
    const ws = examplesWorkspace();
    const result = await runCli(['standalone', '--port', '0', ...ws.args], {
      UPDRAFT_EXAMPLES: 'maybe',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("UPDRAFT_EXAMPLES must be 'true' or 'false'; got 'maybe'");
  });
});

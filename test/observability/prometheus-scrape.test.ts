/**
 * A real Prometheus (Debian's `prometheus` package) scrapes `/metrics` of a running
 * `updraft standalone`, and its query API then answers with Updraft's series. Also
 * `updraft health` against the running standalone (through its control socket): ok,
 * with the executor's slots.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Background,
  createWorkspace,
  runCli,
  startCli,
  type Workspace,
} from '../cli/helpers.ts';

const hasPrometheus = spawnSync('prometheus', ['--version']).status === 0;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('Prometheus scraping a standalone', () => {
  let ws: Workspace | undefined;
  let standalone: Background | undefined;
  let prometheus: ChildProcess | undefined;
  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    await standalone?.stop();
    ws?.remove();
  });

  it('collects Updraft series through a real scrape', async () => {
    expect(hasPrometheus, 'prometheus is missing: apt-get install -y prometheus').toBe(true);
    ws = createWorkspace();
    standalone = startCli(['standalone', '--port', '0', '--workers', '1', ...ws.args]);
    await standalone.waitFor(/Press Ctrl-C to stop/);
    const url = /web +(http:\/\/\S+)/.exec(standalone.output())?.[1];
    if (!url) throw new Error(`no URL in:\n${standalone.output()}`);
    const target = new URL(url).host.replace('localhost', '127.0.0.1');

    const health = await runCli([...ws.args, 'health', '--json']);
    expect(health.code).toBe(0);
    expect(JSON.parse(health.stdout)).toMatchObject({
      status: 'ok',
      executor: { name: 'local', slots: 1 },
    });

    const promPort = await freePort();
    const config = path.join(ws.root, 'prometheus.yml');
    writeFileSync(
      config,
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: updraft\n    static_configs:\n      - targets: ['${target}']\n`,
    );
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(ws.root, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: 'ignore' },
    );
    const query = async (q: string) => {
      const response = await fetch(
        `http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`,
      );
      const body = (await response.json()) as {
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      return body.data.result;
    };
    const deadline = Date.now() + 60_000;
    let slots: Awaited<ReturnType<typeof query>> = [];
    for (;;) {
      try {
        slots = await query('updraft_executor_slots');
        if (slots.length) break;
      } catch {
        // Prometheus still starting.
      }
      if (Date.now() > deadline)
        throw new Error('Prometheus collected no updraft_executor_slots within 60 s');
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(slots[0]?.metric).toMatchObject({ job: 'updraft', executor: 'local' });
    expect(slots[0]?.value[1]).toBe('1');
    const up = await query('up{job="updraft"}');
    expect(up[0]?.value[1]).toBe('1');
    const pools = await query('updraft_pool_slots');
    expect(pools.map((p) => p.metric.pool)).toContain('default_pool');
  }, 180_000);
});

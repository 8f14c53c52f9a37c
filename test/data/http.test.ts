import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_BACKENDS } from '../support/stores.ts';
import { type DataHarness, openDataHarness, readVersionRows } from './support.ts';

const backend = STORE_BACKENDS[0];

describe.runIf(backend !== undefined)('http operator against a local server', () => {
  let h: DataHarness;
  let server: Server;
  let base: string;
  const seen: { url: string; auth: string | undefined }[] = [];
  beforeAll(async () => {
    if (backend === undefined) return;
    h = await openDataHarness(backend);
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization });
      const send = (type: string, body: string, status = 200) => {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
      };
      if (req.url === '/array')
        send(
          'application/json',
          JSON.stringify([
            { id: 1, name: 'a' },
            { id: 2, name: null },
          ]),
        );
      else if (req.url === '/nested')
        send(
          'application/json',
          JSON.stringify({ data: { items: [{ id: 7, tags: ['x'] }] }, next: null }),
        );
      else if (req.url === '/lines') send('application/x-ndjson', '{"id":1}\n{"id":2}\n{"id":3}\n');
      else if (req.url === '/csv') send('text/csv', 'id,city\n1,"Paris, FR"\n2,Oslo\n');
      else if (req.url?.startsWith('/v1/secure')) send('application/json', '[{"ok":true}]');
      else send('text/plain', 'upstream exploded', 503);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await h?.close();
  });

  const fetchInto = async (taskId: string, config: Record<string, unknown>) => {
    const run = { runPk: await h.createRun('http', taskId), dagId: 'http', runId: taskId };
    return h.runTask(run, { taskId, operator: 'http', config: config as never });
  };

  it('reads a JSON array, a list inside a document, NDJSON and CSV into datasets', async () => {
    expect(
      (await fetchInto('a', { url: `${base}/array`, dataset: 'a' })).outcome.result,
    ).toMatchObject({ rows: 2 });
    expect(await readVersionRows((await h.ops.showVersion('a')).location)).toEqual([
      { id: '1', name: 'a' },
      { id: '2', name: null },
    ]);
    await fetchInto('n', { url: `${base}/nested`, dataset: 'n', recordsPath: 'data.items' });
    expect(await readVersionRows((await h.ops.showVersion('n')).location)).toEqual([
      { id: '7', tags: ['x'] },
    ]);
    await fetchInto('l', { url: `${base}/lines`, dataset: 'l' });
    expect((await h.ops.showVersion('l')).rows).toBe(3);
    await fetchInto('c', { url: `${base}/csv`, dataset: 'c' });
    expect(await readVersionRows((await h.ops.showVersion('c')).location)).toEqual([
      { id: '1', city: 'Paris, FR' },
      { id: '2', city: 'Oslo' },
    ]);
  });

  it('uses a connection as base URL with basic auth, and reports HTTP errors without credentials', async () => {
    process.env.UPDRAFT_CONN_API = `${base.replace('http://', 'http://bot:t0psecret@')}/v1`;
    const ok = await fetchInto('s', { connection: 'api', path: 'secure?page=1', dataset: 's' });
    expect(ok.outcome.error?.message).toBeUndefined();
    expect(seen.at(-1)).toEqual({
      url: '/v1/secure?page=1',
      auth: `Basic ${Buffer.from('bot:t0psecret').toString('base64')}`,
    });
    const failed = await fetchInto('f', {
      connection: 'api',
      path: 'down?token=abc',
      dataset: 'f',
    });
    delete process.env.UPDRAFT_CONN_API;
    expect(failed.outcome.error?.message).toBe(
      `task 'f': GET ${base}/v1/down?token=*** answered 503 Service Unavailable: upstream exploded`,
    );
    expect(failed.outcome.exitReason).toBe('error');
  });
});

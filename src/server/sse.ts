/**
 * Server-sent events: a reply turned into an `text/event-stream` that stays open.
 * A comment line every 15 s keeps proxies from closing an idle stream.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface EventStream {
  send(event: string, data: unknown): void;
  /** Ends the stream from the server side. */
  close(): void;
  /** Resolves when the client goes away or `close` is called. */
  readonly closed: Promise<void>;
}

export function openEventStream(request: FastifyRequest, reply: FastifyReply): EventStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-content-type-options': 'nosniff',
    'x-accel-buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  let done = false;
  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  const finish = () => {
    if (done) return;
    done = true;
    clearInterval(keepAlive);
    resolveClosed();
  };
  request.raw.on('close', finish);
  res.on('close', finish);
  return {
    send(event, data) {
      if (!done) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close() {
      if (!done) res.end();
      finish();
    },
    closed,
  };
}

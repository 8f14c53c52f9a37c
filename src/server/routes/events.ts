/**
 * `GET /api/v1/events[?dagId=x]`: live state changes as server-sent events. Each
 * `change` event carries a batch: `[{type:'task'|'run'|'dag', dagId, runId?, taskId?,
 * state?, tryNumber?}]`. The UI refreshes what it shows from these.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { ApiContext } from '../api-context.ts';
import { LiveStates } from '../live-states.ts';
import { openEventStream } from '../sse.ts';

export const eventRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  const live = new LiveStates(ctx.store, ctx.livePollMs, (err) =>
    app.log.warn({ err }, 'live state look failed'),
  );
  app.get<{ Querystring: { dagId?: string } }>(
    '/events',
    {
      config: { capability: 'read' },
      schema: {
        tags: ['events'],
        summary: 'Live run and task state changes (server-sent events, `change` events)',
        querystring: Type.Object(
          { dagId: Type.Optional(Type.String({ minLength: 1, maxLength: 250 })) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const dagId = request.query.dagId;
      const stream = openEventStream(request, reply);
      const stop = await live.listen((events) => {
        const mine = dagId ? events.filter((e) => e.dagId === dagId) : events;
        if (mine.length) stream.send('change', mine);
      });
      stream.send('ready', { dagId: dagId ?? null });
      await stream.closed;
      stop();
    },
  );
};

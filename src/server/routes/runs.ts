/**
 * Runs and task instances: list, get, clear, mark; every attempt; logs (byte ranges,
 * download, live follow by server-sent events).
 */
import { createReadStream } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { isFinishedTaskState, RUN_STATES } from '../../core/states.ts';
import type { ApiContext } from '../api-context.ts';
import { readLogRange } from '../log-file.ts';
import {
  Attempt,
  AttemptParams,
  type AttemptParams as AttemptParamsT,
  ErrorBody,
  LogChunk,
  MarkBody,
  RunDetail,
  RunParams,
  RunSummary,
  TaskInstanceDetail,
  TaskInstanceInfo,
  TaskParams,
} from '../schemas.ts';
import { openEventStream } from '../sse.ts';

/** How often a followed log is read for new lines. */
const FOLLOW_POLL_MS = 250;

const RunsQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 25 }),
    state: Type.Optional(Type.Union(RUN_STATES.map((s) => Type.Literal(s)))),
  },
  { additionalProperties: false },
);
const ClearBody = Type.Object(
  {
    taskIds: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 250 }), { minItems: 1, maxItems: 10_000 }),
    ),
    downstream: Type.Optional(Type.Boolean()),
    onlyFailed: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const LogQuery = Type.Object(
  {
    offset: Type.Optional(
      Type.Integer({ minimum: 0, description: 'read forwards from this byte (default 0)' }),
    ),
    before: Type.Optional(
      Type.Integer({ minimum: 0, description: 'read the part that ends at this byte' }),
    ),
    tail: Type.Optional(Type.Boolean({ description: 'read the part that ends at the end' })),
    maxBytes: Type.Integer({ minimum: 1, maximum: 4 * 1024 * 1024, default: 256 * 1024 }),
  },
  { additionalProperties: false },
);
const FollowQuery = Type.Object(
  { offset: Type.Integer({ minimum: 0, default: 0 }) },
  { additionalProperties: false },
);

const tags = ['runs'];
const Cleared = Type.Object({ cleared: Type.Array(Type.String()) });

export const runRoutes: FastifyPluginAsync<ApiContext> = async (app, { ops }) => {
  app.get<{ Params: { dagId: string }; Querystring: Static<typeof RunsQuery> }>(
    '/dags/:dagId/runs',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: 'Runs of a DAG, newest first',
        params: Type.Object({ dagId: Type.String({ minLength: 1, maxLength: 250 }) }),
        querystring: RunsQuery,
        response: { 200: Type.Array(RunSummary), 404: ErrorBody },
      },
    },
    async (request) => ops.listRuns(request.params.dagId, request.query),
  );

  app.get<{ Params: RunParams }>(
    '/dags/:dagId/runs/:runId',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: 'A run with its task instances',
        params: RunParams,
        response: { 200: RunDetail, 404: ErrorBody },
      },
    },
    async (request) => ops.getRun(request.params.dagId, request.params.runId),
  );

  app.post<{ Params: RunParams; Body: MarkBody }>(
    '/dags/:dagId/runs/:runId/mark',
    {
      config: { capability: 'operate', audit: 'run.mark' },
      schema: {
        tags,
        summary: "Set the run's unfinished task instances to the state and end the run",
        params: RunParams,
        body: MarkBody,
        response: { 200: RunDetail, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => ops.markRun(request.params.dagId, request.params.runId, request.body.state),
  );

  app.post<{ Params: RunParams; Body: Static<typeof ClearBody> }>(
    '/dags/:dagId/runs/:runId/clear',
    {
      config: { capability: 'operate', audit: 'run.clear' },
      schema: {
        tags,
        summary: 'Clear task instances (all of the run when taskIds is omitted) so they run again',
        params: RunParams,
        body: ClearBody,
        response: { 200: Cleared, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const { dagId, runId } = request.params;
      const taskIds =
        request.body.taskIds ?? (await ops.getRun(dagId, runId)).tasks.map((t) => t.taskId);
      return ops.clearTasks(dagId, runId, taskIds, {
        downstream: request.body.downstream,
        onlyFailed: request.body.onlyFailed,
      });
    },
  );

  app.get<{ Params: RunParams }>(
    '/dags/:dagId/runs/:runId/tasks',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: 'Task instances of a run',
        params: RunParams,
        response: { 200: Type.Array(TaskInstanceInfo), 404: ErrorBody },
      },
    },
    async (request) => (await ops.getRun(request.params.dagId, request.params.runId)).tasks,
  );

  app.get<{ Params: TaskParams }>(
    '/dags/:dagId/runs/:runId/tasks/:taskId',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: 'A task instance with every attempt and its result',
        params: TaskParams,
        response: { 200: TaskInstanceDetail, 404: ErrorBody },
      },
    },
    async (request) => {
      const { dagId, runId, taskId } = request.params;
      return ops.getTaskInstance(dagId, runId, taskId);
    },
  );

  app.get<{ Params: TaskParams }>(
    '/dags/:dagId/runs/:runId/tasks/:taskId/attempts',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: 'Every attempt of a task instance',
        params: TaskParams,
        response: { 200: Type.Array(Attempt), 404: ErrorBody },
      },
    },
    async (request) => {
      const { dagId, runId, taskId } = request.params;
      return (await ops.getTaskInstance(dagId, runId, taskId)).attempts;
    },
  );

  app.post<{ Params: TaskParams; Body: MarkBody }>(
    '/dags/:dagId/runs/:runId/tasks/:taskId/mark',
    {
      config: { capability: 'operate', audit: 'task.mark' },
      schema: {
        tags,
        summary: 'Set a task instance to success or failed',
        params: TaskParams,
        body: MarkBody,
        response: { 200: TaskInstanceDetail, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const { dagId, runId, taskId } = request.params;
      return ops.markTask(dagId, runId, taskId, request.body.state);
    },
  );

  app.get<{ Params: AttemptParamsT; Querystring: Static<typeof LogQuery> }>(
    '/dags/:dagId/runs/:runId/tasks/:taskId/logs/:tryNumber',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary:
          "Part of an attempt's log, cut at line ends: forwards from `offset`, or backwards from `before` or the end (`tail`)",
        params: AttemptParams,
        querystring: LogQuery,
        response: { 200: LogChunk, 404: ErrorBody },
      },
    },
    async (request) => {
      const { dagId, runId, taskId, tryNumber } = request.params;
      const file = await ops.taskLogPath(dagId, runId, taskId, tryNumber);
      const { offset, before, tail, maxBytes } = request.query;
      const window =
        tail || before !== undefined
          ? { before: tail ? null : (before ?? null), maxBytes }
          : { offset: offset ?? 0, maxBytes };
      return { tryNumber, ...(await readLogRange(file, window)) };
    },
  );

  app.get<{ Params: AttemptParamsT }>(
    '/dags/:dagId/runs/:runId/tasks/:taskId/logs/:tryNumber/download',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary: "Download an attempt's whole log (JSON lines)",
        params: AttemptParams,
      },
    },
    async (request, reply) => {
      const { dagId, runId, taskId, tryNumber } = request.params;
      const file = await ops.taskLogPath(dagId, runId, taskId, tryNumber);
      const name = `${dagId}__${runId}__${taskId}__${tryNumber}.log`.replace(
        /[^A-Za-z0-9_.-]/g,
        '_',
      );
      reply.header('content-type', 'application/x-ndjson; charset=utf-8');
      reply.header('content-disposition', `attachment; filename="${name}"`);
      const stream = createReadStream(file);
      return reply.send(stream);
    },
  );

  app.get<{ Params: AttemptParamsT; Querystring: Static<typeof FollowQuery> }>(
    '/dags/:dagId/runs/:runId/tasks/:taskId/logs/:tryNumber/follow',
    {
      config: { capability: 'read' },
      schema: {
        tags,
        summary:
          "Follow an attempt's log (server-sent events): `lines` events ({lines, nextOffset}) until `end` ({state}) when the attempt is over",
        params: AttemptParams,
        querystring: FollowQuery,
      },
    },
    async (request, reply) => {
      const { dagId, runId, taskId, tryNumber } = request.params;
      const file = await ops.taskLogPath(dagId, runId, taskId, tryNumber);
      const stream = openEventStream(request, reply);
      let offset = request.query.offset;
      let stopped = false;
      void stream.closed.then(() => {
        stopped = true;
      });
      const pump = async () => {
        for (;;) {
          const chunk = await readLogRange(file, { offset, maxBytes: 1024 * 1024 });
          if (chunk.nextOffset > offset) {
            offset = chunk.nextOffset;
            stream.send('lines', { lines: chunk.lines, nextOffset: offset });
            continue;
          }
          return;
        }
      };
      let checks = 0;
      while (!stopped) {
        await pump();
        if (checks++ % 4 === 0) {
          const ti = await ops.getTaskInstance(dagId, runId, taskId);
          const attempt = ti.attempts.find((a) => a.tryNumber === tryNumber);
          const over =
            ti.tryNumber > tryNumber ||
            (attempt !== undefined && attempt.endedAt !== null) ||
            (ti.tryNumber === tryNumber &&
              (isFinishedTaskState(ti.state) || ti.state === 'up_for_retry'));
          if (over) {
            await pump();
            stream.send('end', { state: attempt?.state ?? ti.state });
            stream.close();
            break;
          }
        }
        await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
      }
    },
  );
};

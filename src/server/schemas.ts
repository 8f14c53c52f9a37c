/**
 * TypeBox schemas of the REST API: they validate requests (a bad one gets 400 naming
 * the field), shape responses, and are what `/api/v1/openapi.json` publishes. Response
 * schemas mirror the `Operations` types of `src/ops/operations.ts`.
 */
import { type Static, type TLiteral, type TSchema, Type } from '@sinclair/typebox';
import { CAPABILITIES, ROLES } from '../auth/roles.ts';
import { EXIT_REASONS, RUN_STATES, RUN_TYPES, TASK_STATES } from '../core/states.ts';

/** One of `values`. */
export const literals = <T extends readonly string[]>(values: T) =>
  Type.Union(values.map((v) => Type.Literal(v)) as TLiteral<T[number]>[]);
/** `schema` or null. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
export const DateTime = Type.String({ format: 'date-time' });

export const TaskState = literals(TASK_STATES);
export const RunState = literals(RUN_STATES);
export const RunType = literals(RUN_TYPES);
export const Role = literals(ROLES);
/** Any JSON value. */
export const AnyJson = Type.Unknown();

export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String({ description: 'stable machine-readable code, e.g. not_found' }),
    message: Type.String(),
    field: Type.Optional(Type.String({ description: 'the request field at fault' })),
  },
  { $id: 'Error' },
);

// --- DAGs ---------------------------------------------------------------------------

export const DagSummary = Type.Object({
  dagId: Type.String(),
  description: Nullable(Type.String()),
  owner: Type.String(),
  tags: Type.Array(Type.String()),
  schedule: Nullable(Type.String()),
  timezone: Type.String(),
  isPaused: Type.Boolean(),
  isActive: Type.Boolean(),
  fileloc: Type.String(),
  versionHash: Type.String(),
  nextRunAfter: Nullable(DateTime),
  recentRuns: Type.Array(Type.Object({ runId: Type.String(), state: RunState })),
});

export const DagDetail = Type.Intersect([
  DagSummary,
  Type.Object({
    spec: Type.Unknown({ description: 'the resolved DagSpec (src/core/dag-spec.ts)' }),
    codeHash: Type.String(),
    lastParsedAt: DateTime,
  }),
]);

export const DagSource = Type.Object({
  dagId: Type.String(),
  fileloc: Type.String(),
  language: literals(['typescript', 'javascript', 'yaml', 'text'] as const),
  code: Type.String(),
});

export const ImportError = Type.Object({
  fileloc: Type.String(),
  issues: Type.Array(
    Type.Object({
      message: Type.String(),
      hint: Type.Optional(Type.String()),
      file: Type.Optional(Type.String()),
      line: Type.Optional(Type.Integer()),
      column: Type.Optional(Type.Integer()),
      dagId: Type.Optional(Type.String()),
      taskId: Type.Optional(Type.String()),
      field: Type.Optional(Type.String()),
    }),
  ),
  at: DateTime,
});

export const PlannedRun = Type.Object({
  dataIntervalStart: DateTime,
  dataIntervalEnd: DateTime,
  runAfter: DateTime,
  logicalDate: DateTime,
});

export const Grid = Type.Object({
  dagId: Type.String(),
  tasks: Type.Array(
    Type.Object({ taskId: Type.String(), group: Nullable(Type.String()), operator: Type.String() }),
  ),
  runs: Type.Array(
    Type.Object({
      runId: Type.String(),
      runType: RunType,
      state: RunState,
      logicalDate: DateTime,
      startedAt: Nullable(DateTime),
      endedAt: Nullable(DateTime),
    }),
  ),
  states: Type.Array(Type.Array(Type.String()), {
    description:
      "one row per run (same order as runs), one task state per task (same order as tasks); '' where the run has no such task",
  }),
});

// --- runs and task instances --------------------------------------------------------

export const RunSummary = Type.Object({
  dagId: Type.String(),
  runId: Type.String(),
  runType: RunType,
  state: RunState,
  logicalDate: DateTime,
  dataIntervalStart: DateTime,
  dataIntervalEnd: DateTime,
  runAfter: DateTime,
  queuedAt: Nullable(DateTime),
  startedAt: Nullable(DateTime),
  endedAt: Nullable(DateTime),
  params: Type.Record(Type.String(), AnyJson),
  versionHash: Type.String(),
});

export const TaskInstanceInfo = Type.Object({
  taskId: Type.String(),
  mapIndex: Type.Integer(),
  state: TaskState,
  tryNumber: Type.Integer(),
  maxTries: Type.Integer(),
  operator: Type.String(),
  pool: Type.String(),
  priorityWeight: Type.Integer(),
  startedAt: Nullable(DateTime),
  endedAt: Nullable(DateTime),
  nextRetryAt: Nullable(DateTime),
});

export const RunDetail = Type.Intersect([
  RunSummary,
  Type.Object({ tasks: Type.Array(TaskInstanceInfo) }),
]);

export const Attempt = Type.Object({
  tryNumber: Type.Integer(),
  state: TaskState,
  exitReason: Nullable(literals(EXIT_REASONS)),
  error: Nullable(Type.String()),
  queuedAt: Nullable(DateTime),
  startedAt: Nullable(DateTime),
  endedAt: Nullable(DateTime),
  hostname: Nullable(Type.String()),
  pid: Nullable(Type.Integer()),
});

export const TaskInstanceDetail = Type.Intersect([
  TaskInstanceInfo,
  Type.Object({
    dagId: Type.String(),
    runId: Type.String(),
    attempts: Type.Array(Attempt),
    result: Type.Optional(AnyJson),
  }),
]);

export const LogChunk = Type.Object({
  tryNumber: Type.Integer(),
  lines: Type.Array(Type.String(), { description: 'complete JSON log lines, as written' }),
  offset: Type.Integer({ description: 'byte offset of the first line' }),
  nextOffset: Type.Integer({ description: 'byte offset after the last complete line' }),
  size: Type.Integer({ description: 'size of the log file now' }),
});

export const Backfill = Type.Object({
  id: Type.Integer(),
  dagId: Type.String(),
  from: DateTime,
  to: DateTime,
  reprocess: literals(['none', 'failed', 'all'] as const),
  maxActiveRuns: Type.Integer(),
  state: literals(['running', 'completed', 'cancelled'] as const),
  runIds: Type.Array(Type.String()),
});

export const Pool = Type.Object({
  name: Type.String(),
  slots: Type.Integer(),
  description: Nullable(Type.String()),
  occupied: Type.Integer(),
});

export const Connection = Type.Object({
  name: Type.String(),
  type: Type.String(),
  url: Type.String({
    description: 'the URL with password, tokens and query values replaced by ***',
  }),
  description: Nullable(Type.String()),
  source: literals(['store', 'file', 'env'] as const),
  keyId: Nullable(Type.String()),
  updatedAt: Nullable(DateTime),
});

// --- users, sessions, tokens, audit -----------------------------------------------

export const User = Type.Object({
  username: Type.String(),
  role: Role,
  createdAt: DateTime,
  passwordChangedAt: DateTime,
});

export const Me = Type.Object({
  username: Type.String(),
  role: Role,
  via: literals(['session', 'token'] as const),
  capabilities: Type.Array(literals(CAPABILITIES)),
  csrfToken: Type.Optional(Type.String({ description: 'send as X-CSRF-Token on changes' })),
});

export const ApiToken = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  prefix: Type.String(),
  createdAt: DateTime,
  expiresAt: Nullable(DateTime),
  lastUsedAt: Nullable(DateTime),
});

export const AuditRecord = Type.Object({
  id: Type.Integer(),
  at: DateTime,
  username: Nullable(Type.String()),
  via: Type.String(),
  action: Type.String(),
  target: Nullable(Type.String()),
  details: Type.Record(Type.String(), AnyJson),
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  outcome: Type.String(),
});

export const Version = Type.Object({ version: Type.String(), api: Type.Literal('v1') });

// --- request parts ------------------------------------------------------------------

/** A DAG, run or task id in a path or query. */
export const Id = (description: string) =>
  Type.String({ minLength: 1, maxLength: 250, description });
export const DagParams = Type.Object({ dagId: Id('DAG id') });
export const RunParams = Type.Object({ dagId: Id('DAG id'), runId: Id('run id') });
export const TaskParams = Type.Object({
  dagId: Id('DAG id'),
  runId: Id('run id'),
  taskId: Id('task id'),
});
export const AttemptParams = Type.Object({
  dagId: Id('DAG id'),
  runId: Id('run id'),
  taskId: Id('task id'),
  tryNumber: Type.Integer({ minimum: 1 }),
});

export const MarkBody = Type.Object(
  { state: Type.Union([Type.Literal('success'), Type.Literal('failed')]) },
  { additionalProperties: false },
);

export type MarkBody = Static<typeof MarkBody>;
export type DagParams = Static<typeof DagParams>;
export type RunParams = Static<typeof RunParams>;
export type TaskParams = Static<typeof TaskParams>;
export type AttemptParams = Static<typeof AttemptParams>;

/** `{ ok: true }` for changes with nothing else to say. */
export const Ok = Type.Object({ ok: Type.Literal(true) });

/**
 * The schema of YAML pipeline files, written once in TypeBox: it types the documents the
 * compiler reads, validates every file before it is compiled, and is published as JSON
 * Schema at `schema/pipeline.schema.json` (regenerate with `npm run schema`) for editor
 * completion through a `# yaml-language-server: $schema=...` line.
 *
 * Operators contribute their config schemas from the operator registry: a task whose
 * `operator` is given has its `config` checked against that operator's fields (all
 * optional here, since a template may supply some; required fields are checked once the
 * task is merged).
 *
 * Every field may be left out in a file: `defaults.yaml`, a file's `defaults` block and
 * templates can supply it. What is required is checked after merging.
 */
import { type Static, type TObject, type TSchema, Type } from '@sinclair/typebox';
import { TRIGGER_RULES } from '../../core/trigger-rules.ts';
import { sqlModelsTaskKind } from '../../data/sql-models.ts';
import type { Operator } from '../../operators/operator.ts';
import { getOperator, listOperators } from '../../operators/registry.ts';
import { WEIGHT_RULES } from '../dag-graph.ts';

/** `$id` of the published schema. */
export const PIPELINE_SCHEMA_ID = 'https://updraft.dev/schema/pipeline.schema.json';

const DURATION_TEXT = "a number of milliseconds or text such as '30s', '5 minutes', '1h30m'";

const Duration = (description: string) =>
  Type.Union([Type.Number({ minimum: 0 }), Type.String({ minLength: 1 })], {
    description: `${description} (${DURATION_TEXT})`,
  });

const NullableDuration = (description: string) =>
  Type.Union([Type.Number({ minimum: 0 }), Type.String({ minLength: 1 }), Type.Null()], {
    description: `${description} (${DURATION_TEXT}; null for none)`,
  });

const Names = (description: string) => Type.Array(Type.String({ minLength: 1 }), { description });

/** Task settings that can be given once for many tasks (`taskDefaults`). */
const NotifyDoc = Type.Object(
  {
    onSuccess: Type.Optional(Names('Notifier connections told when it succeeds.')),
    onFailure: Type.Optional(Names('Notifier connections told when it fails.')),
    onRetry: Type.Optional(Names('Notifier connections told when a try fails and it retries.')),
    onDeadlineMiss: Type.Optional(Names('Notifier connections told when it misses its deadline.')),
  },
  {
    additionalProperties: false,
    description:
      'Who hears about it: names of notifier connections (slack+https://, smtp://, webhook+https://).',
  },
);

const DeadlineDoc = Type.Union(
  [
    Type.Null(),
    Type.Object(
      {
        after: Duration('Time allowed'),
        from: Type.Optional(
          Type.Union([Type.Literal('start'), Type.Literal('logical_date')], {
            description:
              'Measured from the run start (default) or its logical date (interval end for scheduled runs).',
          }),
        ),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'Deadline (SLA): a miss alerts and is recorded; the work continues.' },
);

const taskSettings = {
  retries: Type.Optional(
    Type.Integer({ minimum: 0, description: 'Retries after the first try. Default 0.' }),
  ),
  retryDelay: Type.Optional(Duration('Base delay before a retry. Default 5 minutes')),
  retryExponentialBackoff: Type.Optional(
    Type.Boolean({
      description: 'Double the delay on each retry, with deterministic jitter. Default false.',
    }),
  ),
  maxRetryDelay: Type.Optional(NullableDuration('Upper bound of the retry delay. Default 24h')),
  executionTimeout: Type.Optional(
    NullableDuration('Kill an attempt that runs longer than this. Default none'),
  ),
  triggerRule: Type.Optional(
    Type.Union(
      TRIGGER_RULES.map((rule) => Type.Literal(rule)),
      { description: "When the task runs, given its upstream tasks' states. Default all_success." },
    ),
  ),
  pool: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'Pool whose slots the task takes while queued or running. Default default_pool.',
    }),
  ),
  poolSlots: Type.Optional(
    Type.Integer({ minimum: 1, description: 'Slots taken from the pool. Default 1.' }),
  ),
  priorityWeight: Type.Optional(
    Type.Number({ description: 'Own priority weight, combined per weightRule. Default 1.' }),
  ),
  weightRule: Type.Optional(
    Type.Union(
      WEIGHT_RULES.map((rule) => Type.Literal(rule)),
      { description: 'How priorityWeight becomes the effective priority. Default downstream.' },
    ),
  ),
  queue: Type.Optional(
    Type.String({ minLength: 1, description: 'Executor queue. Default default.' }),
  ),
  notify: Type.Optional(NotifyDoc),
  deadline: Type.Optional(DeadlineDoc),
};

const TaskDefaultsDoc = Type.Object(taskSettings, {
  additionalProperties: false,
  description: 'Settings for every task in scope that does not set them itself.',
});

const MapOverDoc = Type.Object(
  {
    upstream: Type.String({
      minLength: 1,
      description: 'Full id of the task whose result is mapped over; it becomes an upstream.',
    }),
    path: Type.Optional(
      Type.String({
        minLength: 1,
        description: "Dotted path of the array inside the result ('rows'). Default: the result.",
      }),
    ),
    maxItems: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 10_000,
        description: 'Most task instances to expand to. Default 1024.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "Run time: one task instance per item of an upstream task's result; each sees its item as {{ item }}.",
  },
);

const BranchDoc = Type.Union(
  [
    Type.Boolean(),
    Type.Object(
      {
        path: Type.Optional(
          Type.String({
            minLength: 1,
            description: "Path of the choice inside the result ('row.follow', '0.follow').",
          }),
        ),
      },
      { additionalProperties: false },
    ),
  ],
  {
    description:
      'A branch task: its result (or the value at path in it) is the full id, or list of ids, of the direct downstream tasks to run; the others are skipped (an empty list skips them all).',
  },
);

const ExpandDoc = Type.Object(
  {
    items: Type.Optional(
      Type.Array(Type.Unknown(), {
        minItems: 1,
        description: 'The values to make one task of each.',
      }),
    ),
    param: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Name of a DAG param whose default (a list) gives the values.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Load time: one task per value (ids <task>_<value>, or <task>_<index> for values that are not names); ' +
      '{{ expand.item }} and {{ expand.index }} in the task are replaced. Give items or param.',
  },
);

const taskFields = {
  extends: Type.Optional(
    Type.String({ minLength: 1, description: 'Name of a template this task starts from.' }),
  ),
  operator: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'Operator that runs the task (shell, ...).',
      examples: ['shell'],
    }),
  ),
  config: Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), {
      description: "The operator's configuration; fields depend on the operator.",
    }),
  ),
  upstream: Type.Optional(
    Names('Full ids of the tasks and groups this task waits for (a group: all of its tasks).'),
  ),
  doc: Type.Optional(Type.String({ description: 'Documentation shown in the UI (Markdown).' })),
  inlets: Type.Optional(
    Names(
      "Datasets read: 'name', 'name@alias' or 'name@v<N>'; a trailing '?' ('name?') makes it optional (absent while the dataset has no version).",
    ),
  ),
  outlets: Type.Optional(Names('Datasets written (names).')),
  connections: Type.Optional(
    Names(
      'Connections the task uses, resolved when it is queued (stored, the connections file, then UPDRAFT_CONN_<NAME>): ctx.connection(name) in operators, UPDRAFT_CONN_<NAME> for a shell command.',
    ),
  ),
  mapOver: Type.Optional(MapOverDoc),
  branch: Type.Optional(BranchDoc),
  expand: Type.Optional(ExpandDoc),
  ...taskSettings,
};

/** What YAML's `operator` can name: the description and config schema of each. */
type YamlOperator = Pick<Operator, 'name' | 'description' | 'configSchema'>;

/**
 * The operators a YAML task can name: every registered operator but `ts`, and
 * `sql_models`, which the builder turns into a task group at load time.
 */
export function yamlOperators(): YamlOperator[] {
  return [...listOperators().filter((o) => o.name !== 'ts'), sqlModelsTaskKind].sort((a, b) =>
    a.name.localeCompare(b.name),
  );
}

function yamlOperator(name: string): YamlOperator | undefined {
  return name === sqlModelsTaskKind.name ? sqlModelsTaskKind : getOperator(name);
}

/** `if operator is X then config follows X's schema`, for every operator YAML can use. */
function operatorConfigRules(): TSchema[] {
  return yamlOperators().map((operator) => ({
    if: { properties: { operator: { const: operator.name } }, required: ['operator'] },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword
    then: { properties: { config: partialConfigSchema(operator.name) } },
  })) as unknown as TSchema[];
}

/**
 * The config schema of operator `name` with every field optional (a template or a
 * defaults layer may supply the rest), as plain JSON Schema; undefined for an unknown
 * operator.
 */
export function partialConfigSchema(name: string): Record<string, unknown> | undefined {
  const operator = yamlOperator(name);
  if (operator === undefined) return undefined;
  return JSON.parse(
    JSON.stringify(
      Type.Partial(operator.configSchema as TObject, { description: operator.description }),
    ),
  ) as Record<string, unknown>;
}

/** A task (or a template, which is a partial task). */
function taskSchema(operatorConfigs: boolean): TObject {
  return Type.Object(taskFields, {
    additionalProperties: false,
    ...(operatorConfigs ? { allOf: operatorConfigRules() } : {}),
    description: 'A task: an operator with its config, settings and dependencies.',
  });
}

const GROUP_REF = Type.Unsafe<GroupDoc>({ $ref: '#/$defs/group' });
const TASK_REF = Type.Unsafe<TaskDoc>({ $ref: '#/$defs/task' });
const DAG_REF = Type.Unsafe<DagDoc>({ $ref: '#/$defs/dag' });
const ENVIRONMENT_REF = Type.Unsafe<DagDoc>({ $ref: '#/$defs/environment' });

const groupSchema = Type.Object(
  {
    tooltip: Type.Optional(Type.String({ description: 'Shown when hovering the group.' })),
    upstream: Type.Optional(Names('Full ids of the tasks and groups the whole group waits for.')),
    taskDefaults: Type.Optional(TaskDefaultsDoc),
    tasks: Type.Optional(Type.Record(Type.String(), TASK_REF, { description: 'Tasks by id.' })),
    groups: Type.Optional(
      Type.Record(Type.String(), GROUP_REF, { description: 'Nested groups by id.' }),
    ),
  },
  {
    additionalProperties: false,
    description: 'A task group: its tasks get ids <group>.<task>.',
  },
);

const dagFields = {
  description: Type.Optional(Type.String({ description: 'One line for lists.' })),
  owner: Type.Optional(
    Type.String({ minLength: 1, description: 'Who looks after the DAG. Default updraft.' }),
  ),
  tags: Type.Optional(Names('Labels for filtering.')),
  schedule: Type.Optional(
    Type.Union(
      [
        Type.String({ minLength: 1 }),
        Type.Null(),
        Type.Object(
          { datasets: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }) },
          { additionalProperties: false },
        ),
      ],
      {
        description:
          "Cron expression or preset ('@daily'); { datasets: [...] } to run when each has a new version; null for manual runs only.",
      },
    ),
  ),
  timezone: Type.Optional(
    Type.String({ minLength: 1, description: 'IANA time zone of the schedule. Default UTC.' }),
  ),
  startDate: Type.Optional(
    Type.String({
      description:
        "No data interval starts before this ('2026-01-01', read in the DAG's time zone, or an ISO instant).",
    }),
  ),
  endDate: Type.Optional(
    Type.Union([Type.String(), Type.Null()], {
      description: 'No data interval starts after this.',
    }),
  ),
  catchup: Type.Optional(
    Type.Boolean({ description: 'One run per missed interval. Default false.' }),
  ),
  maxActiveRuns: Type.Optional(
    Type.Integer({ minimum: 1, description: 'Runs of this DAG at once. Default 16.' }),
  ),
  maxActiveTasks: Type.Optional(
    Type.Integer({ minimum: 1, description: 'Task instances of this DAG at once. Default 16.' }),
  ),
  dagrunTimeout: Type.Optional(NullableDuration('Fail a run that runs this long. Default none')),
  deadline: Type.Optional(DeadlineDoc),
  notify: Type.Optional(NotifyDoc),
  params: Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), {
      description: 'JSON Schema (an object schema) of the run parameters.',
    }),
  ),
  pausedOnCreation: Type.Optional(
    Type.Boolean({ description: 'Whether the DAG starts paused when first seen.' }),
  ),
  doc: Type.Optional(Type.String({ description: 'Documentation shown in the UI (Markdown).' })),
  taskDefaults: Type.Optional(TaskDefaultsDoc),
  tasks: Type.Optional(Type.Record(Type.String(), TASK_REF, { description: 'Tasks by id.' })),
  groups: Type.Optional(
    Type.Record(Type.String(), GROUP_REF, { description: 'Task groups by id.' }),
  ),
};

/** Fields an environment may override: everything but `environments` itself. */
const environmentSchema = Type.Object(dagFields, {
  additionalProperties: false,
  description: 'Overrides applied when UPDRAFT_ENV names this environment.',
});

const dagSchema = Type.Object(
  {
    ...dagFields,
    environments: Type.Optional(
      Type.Record(Type.String(), ENVIRONMENT_REF, {
        description: 'Overrides by environment name (dev, staging, prod), chosen by UPDRAFT_ENV.',
      }),
    ),
  },
  { additionalProperties: false, description: 'A DAG; its id is its key under dags.' },
);

const templatesSchema = Type.Record(Type.String(), TASK_REF, {
  description: 'Named partial tasks that tasks (and other templates) can extend.',
});

/** Top-level keys shared by pipeline files and defaults.yaml files. */
const sharedTopLevel = {
  $schema: Type.Optional(Type.String({ description: 'JSON Schema of this file (for editors).' })),
  templates: Type.Optional(templatesSchema),
  defaults: Type.Optional(DAG_REF),
};

/** Types of the parts of a YAML pipeline document (the compiler's view of them). */
export type TaskDoc = Static<typeof taskFieldsObject>;
const taskFieldsObject = Type.Object(taskFields);
type TaskDefaultsDoc = Static<typeof TaskDefaultsDoc>;
export interface GroupDoc {
  tooltip?: string;
  upstream?: string[];
  taskDefaults?: TaskDefaultsDoc;
  tasks?: Record<string, TaskDoc>;
  groups?: Record<string, GroupDoc>;
}
export type DagDoc = Omit<Static<typeof dagFieldsObject>, 'tasks' | 'groups'> &
  GroupDoc & {
    environments?: Record<string, DagDoc>;
  };
const dagFieldsObject = Type.Object(dagFields);

/**
 * The description of a task or DAG field (`retryDelay`, `schedule`), or of a field of an
 * operator's config: the hint of an error about it that has no better one.
 */
export function fieldDescription(key: string, operator?: string): string | undefined {
  if (operator !== undefined) {
    const properties = yamlOperator(operator)?.configSchema.properties as
      | Record<string, TSchema>
      | undefined;
    return properties?.[key]?.description;
  }
  const schema =
    (taskFields as Record<string, TSchema>)[key] ?? (dagFields as Record<string, TSchema>)[key];
  return schema?.description;
}

/**
 * The JSON Schema of YAML pipeline files (and of `defaults.yaml` files, which are
 * pipeline files without `dags`), built from the operators registered now. A plain
 * object (no TypeBox symbols), ready for ajv and for `JSON.stringify`.
 *
 * `operatorConfigs: false` leaves out the operators' config schemas (the loader checks
 * each config with its operator's schema on its own, compiled only for the operators in
 * use: compiling them all into one validator costs more than checking 1,000 files).
 */
export function pipelineJsonSchema(
  options: { operatorConfigs?: boolean } = {},
): Record<string, unknown> {
  const root = Type.Object(
    {
      ...sharedTopLevel,
      dags: Type.Optional(
        Type.Record(Type.String(), DAG_REF, { description: 'The DAGs of this file, by id.' }),
      ),
    },
    {
      additionalProperties: false,
      title: 'Updraft YAML pipeline file',
      description:
        'DAGs, templates and defaults (docs/yaml.md). A DAG is merged from the defaults.yaml files ' +
        'from the pipelines folder down, the defaults block, the DAG itself, then its environment.',
    },
  );
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: PIPELINE_SCHEMA_ID,
    ...root,
    $defs: {
      dag: dagSchema,
      environment: environmentSchema,
      group: groupSchema,
      task: taskSchema(options.operatorConfigs ?? true),
    },
  };
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

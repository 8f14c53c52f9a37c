import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import type { DagSpec } from '../../src/core/dag-spec.ts';
import type { SpecIssue } from '../../src/core/errors.ts';
import { validateDagSpec } from '../../src/loader/validate-spec.ts';
import { type DagInput, dagSpec } from '../support/specs.ts';

/** The DAG these tests start from, `extract >> load`, with `overrides` applied. */
function sample(overrides: Partial<DagInput> = {}): DagSpec {
  return dagSpec({
    dagId: 'sample',
    tasks: [{ taskId: 'extract' }, { taskId: 'load', upstream: ['extract'] }],
    ...overrides,
  });
}

/** Issues as `field: message (hint)`, the file and DAG id checked separately. */
function problems(issues: SpecIssue[]): string[] {
  return issues.map((i) => `${i.field}: ${i.message}${i.hint ? ` (${i.hint})` : ''}`);
}

describe('validateDagSpec', () => {
  it('accepts a valid spec', () => {
    expect(
      validateDagSpec(sample({ schedule: '@daily', startDate: '2026-01-01T00:00:00Z' })),
    ).toEqual([]);
  });

  it('names the file and the DAG in every issue', () => {
    const issues = validateDagSpec(sample({ maxActiveRuns: 0 }), '/p/sample.ts');
    expect(issues).toEqual([
      {
        file: '/p/sample.ts',
        dagId: 'sample',
        field: 'maxActiveRuns',
        message: 'must be an integer >= 1, got 0',
      },
    ]);
  });

  it.each([
    ['daily sales', "dagId: dag id 'daily sales' is not valid"],
    ['-leading', "dagId: dag id '-leading' is not valid"],
    ['with.dot', "dagId: dag id 'with.dot' is not valid"],
    ['x'.repeat(251), 'dagId: dag id is 251 characters long'],
  ])('rejects dag id %j saying what is allowed', (dagId, problem) => {
    const [issue] = problems(validateDagSpec(sample({ dagId })));
    expect(issue).toContain(problem);
    expect(issue).toContain("use letters, digits, '_' and '-'");
  });

  it('rejects bad task ids, explaining what a dot means', () => {
    const spec = sample({
      tasks: [{ taskId: 'ok_task-1' }, { taskId: 'has space' }, { taskId: 'a.b' }],
    });
    expect(problems(validateDagSpec(spec))).toEqual([
      "tasks.has space.taskId: task id 'has space' is not valid (use letters, digits, '_' and '-', not starting with '-', at most 250 characters; '.' only joins a group id and the id inside it)",
      "tasks.a.b.taskId: task id 'a.b' is not valid ('.' separates a group id from the id inside it: declare 'b' inside a group instead)",
    ]);
  });

  it('checks that tasks and groups nest consistently', () => {
    const spec = sample({
      groups: [
        { groupId: 'etl', parent: null, tooltip: null },
        { groupId: 'etl.inner', parent: 'etl', tooltip: null },
        { groupId: 'orphan.x', parent: 'orphan', tooltip: null },
        { groupId: 'etl', parent: null, tooltip: null },
      ],
      tasks: [
        { taskId: 'etl.inner.t', group: 'etl.inner' },
        { taskId: 'etl.u', group: 'etl.inner' },
        { taskId: 'v', group: 'missing' },
        { taskId: 'etl' },
      ],
    });
    expect(problems(validateDagSpec(spec))).toEqual([
      "groups.orphan.x.parent: parent group 'orphan' does not exist",
      "groups.etl: group id 'etl' is used twice (give every group a unique id)",
      "tasks.etl.u.group: task 'etl.u' is in group 'etl.inner' but its id does not start with 'etl.inner.'",
      "tasks.v.group: task 'v' is in group 'missing' but its id does not start with 'missing.'",
      "tasks.v.group: group 'missing' does not exist",
      "tasks.etl.taskId: task id 'etl' is also a group id (rename the task or the group)",
    ]);
  });

  it('reports duplicate task ids', () => {
    const spec = sample({ tasks: [{ taskId: 'a' }, { taskId: 'a' }] });
    expect(problems(validateDagSpec(spec))).toEqual([
      "tasks.a: task id 'a' is used by more than one task (give every task a unique id)",
    ]);
  });

  it('reports an unknown upstream with the closest id', () => {
    const spec = sample({
      tasks: [
        { taskId: 'extract' },
        { taskId: 'transform.clean', group: null },
        { taskId: 'load', upstream: ['extarct', 'clean', 'zzz'] },
      ],
    });
    const issues = validateDagSpec(spec).filter((i) => i.taskId === 'load');
    expect(problems(issues)).toEqual([
      "tasks.load.upstream: upstream task 'extarct' does not exist in dag 'sample' (did you mean 'extract'?)",
      "tasks.load.upstream: upstream task 'clean' does not exist in dag 'sample' (did you mean 'transform.clean'?)",
      "tasks.load.upstream: upstream task 'zzz' does not exist in dag 'sample'",
    ]);
  });

  it('reports each cycle with the path that closes it', () => {
    const spec = sample({
      tasks: [
        { taskId: 'start' },
        { taskId: 'a', upstream: ['start', 'c'] },
        { taskId: 'b', upstream: ['a'] },
        { taskId: 'c', upstream: ['b'] },
        { taskId: 'self', upstream: ['self'] },
      ],
    });
    expect(validateDagSpec(spec)).toEqual([
      expect.objectContaining({
        taskId: 'a',
        field: 'tasks.a.upstream',
        message: 'dependency cycle: a -> b -> c -> a',
      }),
      expect.objectContaining({ taskId: 'self', message: 'dependency cycle: self -> self' }),
    ]);
  });

  it('reports schedule, time zone and date problems', () => {
    const clock = new ManualClock('2026-04-05T12:00:00Z');
    const cases: [Partial<DagInput>, string[]][] = [
      [
        { schedule: '61 * * * *', startDate: '2026-01-01T00:00:00Z' },
        [
          "schedule: invalid cron '61 * * * *': minute field '61' is not valid (allowed: 0-59, with * , - /)",
        ],
      ],
      [
        { schedule: '@daily', timezone: 'Europe/Berln', startDate: '2026-01-01T00:00:00Z' },
        [expect.stringContaining("timezone: unknown time zone 'Europe/Berln'")],
      ],
      [
        { schedule: '@daily' },
        [
          "startDate: a DAG with a schedule needs a start date: no data interval starts before it (add startDate: '2026-04-05' (read in the DAG's time zone), or an earlier date to backfill from)",
        ],
      ],
      [
        { startDate: '2026-02-01T00:00:00Z', endDate: '2026-01-01T00:00:00Z' },
        [
          'endDate: endDate 2026-01-01T00:00:00Z is before startDate 2026-02-01T00:00:00Z (swap them, or remove endDate)',
        ],
      ],
      [
        { startDate: 'soon' },
        ["startDate: 'soon' is not an ISO date (use e.g. '2026-01-01T00:00:00Z')"],
      ],
    ];
    for (const [overrides, expected] of cases) {
      expect(problems(validateDagSpec(sample(overrides), undefined, { clock }))).toEqual(expected);
    }
  });

  it('reports a bad params schema', () => {
    const spec = sample({
      params: { type: 'object', properties: { limit: { type: 'integr' } } },
    });
    const issues = validateDagSpec(spec);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ field: 'params', message: expect.stringContaining('limit') });
  });

  it('reports bad task settings', () => {
    const spec = sample({
      tasks: [
        {
          taskId: 't',
          triggerRule: 'all_sucess' as never,
          retries: -1,
          retryDelayMs: -1,
          executionTimeoutMs: 0,
          poolSlots: 0,
          pool: '',
          priorityWeight: Number.NaN,
          queue: ' ',
        },
      ],
    });
    expect(problems(validateDagSpec(spec))).toEqual([
      "tasks.t.triggerRule: unknown trigger rule 'all_sucess' (did you mean 'all_success'?)",
      'tasks.t.retries: must be an integer >= 0, got -1',
      'tasks.t.retryDelay: must be a duration >= 0, got -1',
      'tasks.t.executionTimeout: must be a positive duration or null, got 0',
      'tasks.t.pool: must be a pool name',
      'tasks.t.poolSlots: must be an integer >= 1, got 0 (a task takes at least one slot of its pool)',
      'tasks.t.priorityWeight: must be a number, got NaN',
      'tasks.t.queue: must be a queue name',
    ]);
  });

  it("checks operator configs against the operator's schema, and unknown operators", () => {
    const spec = sample({
      tasks: [
        { taskId: 'sh', operator: 'shell', config: { cmd: 'ls' } },
        { taskId: 'odd', operator: 'telepathy', config: {} },
      ],
    });
    const issues = problems(validateDagSpec(spec));
    expect(issues).toContain('tasks.sh.config.command: is required');
    expect(issues).toContainEqual(
      expect.stringContaining('tasks.sh.config.cmd: is not a known field'),
    );
    expect(issues).toContainEqual(
      expect.stringContaining("tasks.odd.operator: unknown operator 'telepathy'"),
    );
  });
});

describe('validateDagSpec: datasets and mapping', () => {
  it('accepts dataset references, a dataset schedule and a mapped task', () => {
    const spec = sample({
      datasetSchedule: ['shop.orders', 'customers'],
      tasks: [
        { taskId: 'extract', inlets: ['orders', 'orders@prod', 'orders@v12', 'returns?'] },
        {
          taskId: 'load',
          upstream: ['extract'],
          outlets: ['orders_clean'],
          mapOver: { upstream: 'extract', path: 'data.files', maxItems: 50 },
        },
      ],
    });
    expect(validateDagSpec(spec)).toEqual([]);
  });

  it('rejects dataset names with path characters and bad references', () => {
    const issues = validateDagSpec(
      sample({
        datasetSchedule: ['../etc'],
        tasks: [
          { taskId: 'extract', inlets: ['orders@', 'a/b', 'orders??'] },
          { taskId: 'load', upstream: ['extract'], outlets: ['orders@prod'] },
        ],
      }),
    );
    expect(problems(issues)).toEqual([
      `schedule.datasets: '../etc' is not a valid dataset name: use letters, digits, '_', '-' and '.', starting with a letter, digit or '_', no '..', at most 200 characters`,
      `tasks.extract.inlets: 'orders@' is not a valid dataset reference: after '@' comes an alias (letters, digits, '_', '-') or a version such as v3`,
      `tasks.extract.inlets: 'a/b' is not a valid dataset name: use letters, digits, '_', '-' and '.', starting with a letter, digit or '_', no '..', at most 200 characters`,
      `tasks.extract.inlets: 'orders?' is not a valid dataset name: use letters, digits, '_', '-' and '.', starting with a letter, digit or '_', no '..', at most 200 characters`,
      `tasks.load.outlets: 'orders@prod' is not a valid dataset name: use letters, digits, '_', '-' and '.', starting with a letter, digit or '_', no '..', at most 200 characters (outlets name datasets, without @)`,
    ]);
  });

  it('refuses a DAG scheduled both by cron and by datasets', () => {
    const issues = validateDagSpec(
      sample({ schedule: '@daily', startDate: '2026-01-01T00:00:00Z', datasetSchedule: ['x'] }),
    );
    expect(problems(issues)).toEqual([
      'schedule: a DAG is scheduled either by cron or by datasets, not both (keep one; trigger the other way with a trigger or a manual run)',
    ]);
  });

  it('checks that a mapped task maps over a direct upstream, with a valid path and cap', () => {
    const issues = validateDagSpec(
      sample({
        tasks: [
          { taskId: 'extract' },
          {
            taskId: 'load',
            upstream: ['extract'],
            mapOver: { upstream: 'extrct', path: 'a..b', maxItems: 20_000 },
          },
        ],
      }),
    );
    expect(problems(issues)).toEqual([
      "tasks.load.mapOver.upstream: 'extrct' is not an upstream task of 'load' (did you mean 'extract'?)",
      "tasks.load.mapOver.path: 'a..b' is not a dotted path of keys and list positions (write e.g. 'rows', 'data.items' or '0.follow')",
      'tasks.load.mapOver.maxItems: must be an integer from 1 to 10000, got 20000',
    ]);
  });
});

describe('validateDagSpec: branching', () => {
  it('accepts a branch task with downstream tasks, with or without a path', () => {
    const spec = sample({
      tasks: [
        { taskId: 'plan', branch: { path: '0.follow' } },
        { taskId: 'a', upstream: ['plan'] },
        { taskId: 'b', upstream: ['plan'], branch: { path: null } },
        { taskId: 'c', upstream: ['b'] },
      ],
    });
    expect(validateDagSpec(spec)).toEqual([]);
  });

  it('rejects a branch without downstream tasks, a mapped branch and a bad path', () => {
    const mappedBranch = { upstream: ['extract'], branch: { path: 'rows..0' } };
    const mapOver = { upstream: 'extract', path: null, maxItems: 10 };
    const tasks = [{ taskId: 'extract' }, { taskId: 'load', ...mappedBranch, mapOver }];
    const issues = validateDagSpec(sample({ tasks }));
    expect(problems(issues)).toEqual([
      "tasks.load.branch.path: 'rows..0' is not a dotted path of keys and list positions (write e.g. 'rows', 'data.items' or '0.follow')",
      "tasks.load.branch: branch task 'load' has no downstream tasks to choose from (make the tasks it chooses between list it in their upstream, or drop branch)",
      "tasks.load.branch: branch task 'load' is mapped: a mapped task cannot be a branch (choose in an unmapped task after the mapped one, which sees their results as a list, or drop branch)",
    ]);
  });
});

describe('validateDagSpec: notifications and deadlines', () => {
  const none = { onSuccess: [], onFailure: [], onRetry: [], onDeadlineMiss: [] };

  it('accepts notifier names and deadlines on the DAG and its tasks', () => {
    const spec = sample({
      notify: { ...none, onFailure: ['oncall_slack'] },
      deadline: { afterMs: 600_000, from: 'logical_date' },
      tasks: [
        { taskId: 'extract', deadline: { afterMs: 60_000, from: 'start' } },
        { taskId: 'load', upstream: ['extract'], notify: { ...none, onRetry: ['team_mail'] } },
      ],
    });
    expect(validateDagSpec(spec)).toEqual([]);
  });

  it('reports bad notifier lists and deadlines with their field', () => {
    const issues = validateDagSpec(
      sample({
        notify: { ...none, onFailure: [''] },
        deadline: { afterMs: 0, from: 'end' as 'start' },
      }),
    );
    expect(problems(issues)).toEqual([
      'notify.onFailure: must be a list of notifier connection names',
      'deadline.after: must be a positive duration, got 0',
      "deadline.from: must be 'start' or 'logical_date', got 'end'",
    ]);
  });
});

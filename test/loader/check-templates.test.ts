/**
 * Run-time templates in operator configs are checked when the DAG is loaded: syntax,
 * variable names, `item` outside a mapped task, and `upstream.<id>` of a task that is
 * not a direct upstream.
 */
import { describe, expect, it } from 'vitest';
import { validateDagSpec } from '../../src/loader/validate-spec.ts';
import { dagSpec, taskSpec } from '../support/specs.ts';

function issuesOf(command: string, extra: Parameters<typeof taskSpec>[0] = { taskId: 'report' }) {
  const spec = dagSpec({
    dagId: 'd',
    tasks: [
      taskSpec({ taskId: 'extract' }),
      taskSpec({ taskId: 'g.clean', group: 'g' }),
      taskSpec({
        upstream: ['extract', 'g.clean'],
        ...extra,
        config: { command, env: { X: command } },
      }),
    ],
    groups: [{ groupId: 'g', parent: null, tooltip: null }],
  });
  return validateDagSpec(spec).map((i) => [i.field, i.message, i.hint]);
}

describe('template checks', () => {
  it('accepts the variables the task runner provides, and direct upstream results', () => {
    expect(
      issuesOf(
        "{{ ds }} {{ ds_nodash }} {{ params.x | default('y') }} {{ upstream.extract.rows }} {{ upstream['g.clean'] | json }} {{ run_id }} {{ '{{' }}",
      ),
    ).toEqual([]);
  });

  it('names an unknown variable with the closest one, in each field that has it', () => {
    expect(issuesOf('echo {{ dss }}')).toEqual([
      ['tasks.report.config.command', "unknown template variable 'dss'", "did you mean 'ds'?"],
      ['tasks.report.config.env.X', "unknown template variable 'dss'", "did you mean 'ds'?"],
    ]);
  });

  it('refuses {{ item }} outside a mapped task, and accepts it in one', () => {
    expect(issuesOf('{{ item }}')[0]).toEqual([
      'tasks.report.config.command',
      '{{ item }} is only set in a mapped task',
      'add mapOver to the task, or remove {{ item }}',
    ]);
    expect(
      issuesOf('{{ item.name }}', {
        taskId: 'report',
        mapOver: { upstream: 'extract', path: null, maxItems: 10 },
      }),
    ).toEqual([]);
  });

  it('refuses upstream results of tasks that are not direct upstream', () => {
    const [first] = issuesOf('{{ upstream.extrakt.rows }} {{ upstream.g.clean }}');
    expect(first).toEqual([
      'tasks.report.config.command',
      "{{ upstream.extrakt }} reads a task that is not a direct upstream of 'report'",
      "did you mean 'extract'?",
    ]);
    expect(issuesOf('{{ upstream.g.clean }}')[0]?.[2]).toBe(
      "direct upstream: extract, g.clean; for a task in a group write upstream['group.task']",
    );
  });

  it('reports bad syntax', () => {
    expect(issuesOf('{{ ds | shout }}')[0]?.[1]).toMatch(/^bad template: /);
  });
});

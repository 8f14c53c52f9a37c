/**
 * Points issues found in a compiled YAML DAG (by the authoring builder or the spec
 * validator, which speak of spec fields such as `tasks.load.retryDelay`) at the YAML
 * that wrote the value: file, line, column, and the path in the document
 * (`dags.orders.tasks.load.retryDelay`). Values merged in from a template or a
 * `defaults.yaml` point at that file.
 */
import type { SpecIssue } from '../../core/errors.ts';
import { fieldDescription } from './document-schema.ts';
import { formatPath, type YamlPath } from './yaml-path.ts';
import { isYamlMap, locate, type SourcePos, type YamlMap, type YamlValue } from './yaml-value.ts';

interface Located {
  doc: YamlMap;
  path: YamlPath;
}

/** Spec field names whose YAML key differs. */
const YAML_KEYS: Record<string, string> = { defaults: 'taskDefaults' };

export class DagLocator {
  private readonly tasks = new Map<string, Located>();
  private readonly groups = new Map<string, Located>();

  constructor(
    private readonly dagId: string,
    private readonly dagDoc: YamlMap,
    private readonly dagPath: YamlPath,
    private readonly file: string,
  ) {}

  /** Registers task `taskId` (resolved document `doc`, written at `path`). */
  addTask(taskId: string, doc: YamlMap, path: YamlPath): void {
    this.tasks.set(taskId, { doc, path });
  }

  /** Registers group `groupId`. */
  addGroup(groupId: string, doc: YamlMap, path: YamlPath): void {
    this.groups.set(groupId, { doc, path });
  }

  /** An issue about `rest` (a path inside task `taskId`). */
  taskIssue(taskId: string, rest: YamlPath, what: Pick<SpecIssue, 'message' | 'hint'>): SpecIssue {
    const task = this.tasks.get(taskId);
    const node = task ?? { doc: this.dagDoc, path: this.dagPath };
    return this.at(node, rest, { dagId: this.dagId, taskId, ...what });
  }

  /** `issue` with file, line, column and the document path of what it is about. */
  locate(issue: SpecIssue): SpecIssue {
    const field = issue.field ?? '';
    const task = issue.taskId === undefined ? undefined : this.tasks.get(issue.taskId);
    if (task !== undefined && issue.taskId !== undefined) {
      const prefix = `tasks.${issue.taskId}`;
      const rest = taskPath(
        field.startsWith(`${prefix}.`) ? field.slice(prefix.length + 1) : '',
        task.doc,
        issue.message,
      );
      return this.at(this.settingOwner(issue.taskId, task, rest), rest, issue);
    }
    if (field.startsWith('groups.')) {
      const inside = field.slice('groups.'.length);
      const groupId = [...this.groups.keys()]
        .filter((id) => inside === id || inside.startsWith(`${id}.`))
        .sort((a, b) => b.length - a.length)[0];
      const group = groupId === undefined ? undefined : this.groups.get(groupId);
      if (group !== undefined && groupId !== undefined) {
        const rest = inside.slice(groupId.length + 1);
        return this.at(group, rest === '' || rest === 'parent' ? [] : yamlPath(rest), issue);
      }
    }
    const rest = field === 'dagId' ? [] : yamlPath(field);
    return this.at({ doc: this.dagDoc, path: this.dagPath }, rest, issue);
  }

  /**
   * Where a task's setting was written: the task, else the `taskDefaults` of its groups
   * (innermost first), else the DAG's.
   */
  private settingOwner(taskId: string, task: Located, rest: YamlPath): Located {
    const [key] = rest;
    if (typeof key !== 'string' || has(task.doc, key)) return task;
    const scopes: Located[] = [];
    const parts = taskId.split('.');
    for (let i = parts.length - 1; i > 0; i--) {
      const group = this.groups.get(parts.slice(0, i).join('.'));
      if (group !== undefined) scopes.push(group);
    }
    scopes.push({ doc: this.dagDoc, path: this.dagPath });
    for (const scope of scopes) {
      const defaults = scope.doc.taskDefaults;
      if (isYamlMap(defaults) && has(defaults, key)) {
        return { doc: defaults, path: [...scope.path, 'taskDefaults'] };
      }
    }
    return task;
  }

  private at(node: Located, rest: YamlPath, issue: SpecIssue): SpecIssue {
    const position: SourcePos | undefined = locate(node.doc, rest) ?? locate(this.dagDoc, []);
    const { file, line, column } = position ?? {
      file: this.file,
      line: undefined,
      column: undefined,
    };
    return {
      ...issue,
      hint: issue.hint ?? hintFor(node.doc, rest),
      file,
      line,
      column,
      dagId: this.dagId,
      field: formatPath([...node.path, ...rest]),
    };
  }
}

/** What a field is for (its schema description), as the hint of an issue without one. */
function hintFor(doc: YamlMap, rest: YamlPath): string | undefined {
  const [first, second] = rest;
  if (first === 'config' && typeof second === 'string' && typeof doc.operator === 'string') {
    return fieldDescription(second, doc.operator);
  }
  return typeof first === 'string' ? fieldDescription(first) : undefined;
}

/** A spec field path (`retryDelay`, `config.env.A`) as a YAML path. */
function yamlPath(field: string): YamlPath {
  if (field === '') return [];
  const [first = '', ...rest] = field.split('.');
  return [YAML_KEYS[first] ?? first, ...rest];
}

/** The YAML path inside a task of the spec field `rest`; an unknown upstream: that item. */
function taskPath(rest: string, doc: YamlMap, message: string): YamlPath {
  if (rest === '' || rest === 'taskId' || rest === 'group') return [];
  if (rest === 'upstream') {
    const id = /^upstream task '([^']*)'/.exec(message)?.[1];
    if (id !== undefined) {
      const list: YamlValue | undefined = doc.upstream;
      const index = Array.isArray(list) ? list.indexOf(id) : -1;
      if (index >= 0) return ['upstream', index];
      const mapOver = doc.mapOver;
      if (mapOver !== null && typeof mapOver === 'object' && !Array.isArray(mapOver)) {
        return ['mapOver', 'upstream'];
      }
    }
  }
  return yamlPath(rest);
}

function has(map: YamlMap, key: string): boolean {
  return Object.hasOwn(map, key);
}

/**
 * Task templates: a task (or a template) with `extends: name` starts from that template,
 * merged by the usual rule (maps deeply, lists replace). Chains of any length work; a
 * template that extends itself, directly or through others, and a missing template are
 * errors naming the chain and the closest template name.
 */
import { didYouMean } from '../../core/closest-match.ts';
import { mergeValues, omitKeys } from './merge.ts';
import { isYamlMap, type YamlMap } from './yaml-value.ts';

/** A problem with a task's templates, with the path (inside the task) it is about. */
export interface TemplateProblem {
  /** Template name whose `extends` is at fault, or undefined for the task's own. */
  template: string | undefined;
  message: string;
  hint?: string;
}

/** Result of resolving a task's templates. */
export type ResolvedTask = { ok: true; task: YamlMap } | { ok: false; problem: TemplateProblem };

/** Resolves templates for many tasks, caching each template's own resolution. */
export class TemplateResolver {
  private readonly resolved = new Map<string, ResolvedTask>();

  /** @param templates the templates in force, by name (merged from every layer). */
  constructor(readonly templates: YamlMap) {}

  /** `task` with its `extends` chain merged under it (and `extends` removed). */
  resolve(task: YamlMap): ResolvedTask {
    const name = task.extends;
    if (typeof name !== 'string') return { ok: true, task };
    const base = this.template(name, [], undefined);
    if (!base.ok) return base;
    return { ok: true, task: mergeValues(base.task, omitKeys(task, ['extends'])) as YamlMap };
  }

  /** Names of the templates, for hints. */
  names(): string[] {
    return Object.keys(this.templates);
  }

  private template(name: string, chain: string[], from: string | undefined): ResolvedTask {
    const cached = this.resolved.get(name);
    if (cached !== undefined) return cached;
    if (chain.includes(name)) {
      const loop = [...chain.slice(chain.indexOf(name)), name].join(' -> ');
      return {
        ok: false,
        problem: {
          template: from,
          message:
            chain.length === 1 && chain[0] === name
              ? `template '${name}' extends itself`
              : `templates extend each other in a loop: ${loop}`,
          hint: 'remove one extends of the loop',
        },
      };
    }
    const own = Object.hasOwn(this.templates, name) ? this.templates[name] : undefined;
    if (!isYamlMap(own)) {
      return {
        ok: false,
        problem: {
          template: from,
          message: `unknown template '${name}'`,
          hint: didYouMean(
            name,
            this.names(),
            this.names().length === 0
              ? 'define it under templates: in this file or a defaults.yaml above it'
              : `known templates: ${this.names().join(', ')}`,
          ),
        },
      };
    }
    const result = this.resolveTemplate(name, own, chain);
    // Loop results depend on the chain they were found from: cache only successes.
    if (result.ok) this.resolved.set(name, result);
    return result;
  }

  private resolveTemplate(name: string, own: YamlMap, chain: string[]): ResolvedTask {
    const parent = own.extends;
    if (typeof parent !== 'string') return { ok: true, task: own };
    const base = this.template(parent, [...chain, name], name);
    if (!base.ok) return base;
    return { ok: true, task: mergeValues(base.task, omitKeys(own, ['extends'])) as YamlMap };
  }
}

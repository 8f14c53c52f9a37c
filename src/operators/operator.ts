/**
 * The operator plug-in interface. An operator is what a task's `operator` field names:
 * it receives the task's rendered, validated configuration and runs the work inside a
 * worker, via the task runner (`src/executor/task-runner.ts`).
 *
 * The same `configSchema` (TypeBox, i.e. JSON Schema) documents the config, fills its
 * defaults before `run`, and validates YAML pipelines in the loader; every property
 * carries a `description` and, where it has one, a `default`.
 */
import type { TSchema } from '@sinclair/typebox';
import type { Json } from '../core/dag-spec.ts';
import type { TaskContext } from '../core/task-context.ts';
import type { AttemptRequest } from '../executor/executor.ts';

/**
 * What an operator sees while it runs: what task code sees (`log`, `signal`,
 * `connection`, params, dates, upstream results) plus the attempt request itself. Not
 * `datasets`: operators use the data layer's helpers (`src/data/`) directly, and the
 * `ts` operator builds `ctx.datasets` for task functions from this context.
 */
export interface OperatorContext extends Omit<TaskContext, 'datasets'> {
  /** The attempt being run: its key, pipeline file, code hash and task spec. */
  readonly attempt: AttemptRequest;
}

/**
 * An operator. `C` is the type of its configuration after defaults are applied
 * (usually `Static<typeof schema>`).
 */
export interface Operator<C = unknown> {
  /** The name tasks use in their `operator` field (`ts`, `shell`, ...). */
  readonly name: string;
  /** One-line description, for docs and `updraft operators`. */
  readonly description: string;
  /** JSON Schema of the configuration, with descriptions and defaults. */
  readonly configSchema: TSchema;
  /**
   * Runs the task. Resolves with the task result (JSON; `undefined` for none). Throws
   * `TaskFailure` / `SkipTask` to say what happens next; must stop promptly when
   * `ctx.signal` aborts.
   */
  run(config: C, ctx: OperatorContext): Promise<Json | undefined>;
}

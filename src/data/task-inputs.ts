/**
 * What a data operator reads from its attempt (worker side): the dataset storage root,
 * the dataset versions pinned for the task by `prepareAttempt`, the watermark of an
 * incremental extract, and stored connections. The shapes are written by
 * `src/data/attempt-hooks.ts`.
 */
import path from 'node:path';
import type { Json } from '../core/dag-spec.ts';
import { TaskFailure } from '../core/errors.ts';
import type { OperatorContext } from '../operators/operator.ts';
import { type DuckDbSession, readParquetSql, sqlIdentifier } from './duckdb-session.ts';

/** A dataset version pinned for a task: `inputs[ref]` of its attempt. */
export interface PinnedInput {
  dataset: string;
  version: number;
  /** Version folder relative to the datasets root. */
  path: string;
  rows: number;
}

/** `inputs` key holding the watermarks of the task's incremental extracts, by dataset. */
export const WATERMARKS_KEY = '$watermarks';

/** A stored watermark as handed to the worker. */
export interface PinnedWatermark {
  column: string;
  value: string;
}

/** The absolute dataset storage root of the attempt; fails when the engine gave none. */
export function datasetsRootOf(ctx: OperatorContext): string {
  const root = ctx.attempt.datasetsRoot;
  if (typeof root !== 'string' || root === '') {
    throw new TaskFailure('this attempt has no dataset storage (datasetsRoot is not set)', {
      retry: false,
    });
  }
  return root;
}

/**
 * The dataset versions pinned for this task, by the reference the task wrote. An
 * optional inlet (`orders?`) whose dataset had no version is absent (its input is null).
 */
export function pinnedInputs(ctx: OperatorContext): Map<string, PinnedInput> {
  const inputs = ctx.attempt.context.inputs ?? {};
  const pinned = new Map<string, PinnedInput>();
  for (const [ref, value] of Object.entries(inputs)) {
    if (ref === WATERMARKS_KEY || value === null) continue;
    pinned.set(ref, value as unknown as PinnedInput);
  }
  return pinned;
}

/** Whether `ref` is an optional inlet of the task that resolved to no version in this run. */
export function isAbsentInlet(ctx: OperatorContext, ref: string): boolean {
  return ctx.attempt.context.inputs?.[ref] === null;
}

/**
 * The inlet an operator works on: the reference its config names in `dataset`, else the
 * task's only inlet; null when it names none and has not exactly one.
 */
export function chosenInlet(dataset: string | undefined, inlets: readonly string[]): string | null {
  if (dataset !== undefined) return dataset;
  return inlets.length === 1 ? (inlets[0] as string) : null;
}

/**
 * Worker side of `chosenInlet`: the inlet and its pinned version; fails without retry
 * saying to set `dataset` to the inlet to `verb` (`check`, `promote`) when none is chosen.
 */
export function chosenInput(
  ctx: OperatorContext,
  dataset: string | undefined,
  verb: string,
): { ref: string; input: PinnedInput } {
  const inlets = ctx.attempt.task.inlets;
  const ref = chosenInlet(dataset, inlets);
  if (ref === null) {
    throw new TaskFailure(
      `task '${ctx.taskId}': set 'dataset' to the inlet to ${verb} (inlets: ${inlets.join(', ') || 'none'})`,
      { retry: false },
    );
  }
  return { ref, input: pinnedInput(ctx, ref) };
}

/** The pinned version for `ref`; fails naming the inlets to add when it is not one. */
export function pinnedInput(ctx: OperatorContext, ref: string): PinnedInput {
  const pinned = pinnedInputs(ctx);
  const found = pinned.get(ref);
  if (found === undefined && isAbsentInlet(ctx, ref)) {
    throw new TaskFailure(
      `task '${ctx.taskId}' reads optional inlet '${ref}', which has no version in this run (the dataset has none yet): check ctx.datasets.inlets() (or {{ inputs['${ref}'] }}, null when absent) before reading it`,
      { retry: false },
    );
  }
  if (found === undefined) {
    const known = [...pinned.keys()].map((r) => `'${r}'`).join(', ') || 'none';
    throw new TaskFailure(
      `task '${ctx.taskId}' reads dataset '${ref}', which is not among its inlets (inlets: ${known}): add '${ref}' to the task's inlets`,
      { retry: false },
    );
  }
  return found;
}

/** The stored watermark of this task for `dataset`, or null before the first commit. */
export function pinnedWatermark(ctx: OperatorContext, dataset: string): PinnedWatermark | null {
  const all = ctx.attempt.context.inputs?.[WATERMARKS_KEY] as
    | { [dataset: string]: Json }
    | undefined;
  const found = all?.[dataset];
  return found === undefined || found === null ? null : (found as unknown as PinnedWatermark);
}

/** Absolute folder of a pinned version. */
export function inputFolder(ctx: OperatorContext, input: PinnedInput): string {
  return path.join(datasetsRootOf(ctx), input.path);
}

/**
 * Creates one view per pinned input in `session`: named by `names` (view → ref) when
 * given, else every inlet under its dataset name. An absent optional inlet gets no view
 * (a query naming it fails with DuckDB's "does not exist"). Returns the versions read.
 */
export async function createInputViews(
  ctx: OperatorContext,
  session: DuckDbSession,
  names?: Record<string, string>,
): Promise<{ dataset: string; version: number }[]> {
  const entries: [string, PinnedInput][] =
    names === undefined
      ? [...pinnedInputs(ctx).values()].map((input) => [input.dataset, input])
      : Object.entries(names).flatMap(([view, ref]): [string, PinnedInput][] =>
          isAbsentInlet(ctx, ref) ? [] : [[view, pinnedInput(ctx, ref)]],
        );
  for (const [view, input] of entries) {
    await session.run(
      `create or replace view ${sqlIdentifier(view)} as select * from ${readParquetSql(inputFolder(ctx, input))}`,
      `task '${ctx.taskId}' reading dataset '${input.dataset}' v${input.version}`,
    );
  }
  return entries.map(([, input]) => ({ dataset: input.dataset, version: input.version }));
}

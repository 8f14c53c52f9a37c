/**
 * Scratch folders for operators (pipes and files on their way in or out, DuckDB spill
 * files), and DuckDB sessions that spill into them:
 * `<datasets root>/.tmp/<uuid>`, on the same disk as the versions, removed when the
 * work ends, whether it succeeded or not.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { OperatorContext } from '../operators/operator.ts';
import { type DuckDbOptions, DuckDbSession } from './duckdb-session.ts';
import { datasetsRootOf } from './task-inputs.ts';

/** Creates a fresh scratch folder under the datasets root `root`. */
async function createScratch(root: string): Promise<string> {
  const dir = path.join(root, '.tmp', randomUUID());
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Runs `fn` with a fresh scratch folder, removed afterwards. */
export function withScratch<T>(ctx: OperatorContext, fn: (dir: string) => Promise<T>): Promise<T> {
  return withScratchIn(datasetsRootOf(ctx), fn);
}

/** Runs `fn` with a fresh scratch folder under the datasets root `root`, removed afterwards. */
export async function withScratchIn<T>(root: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await createScratch(root);
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A DuckDB session spilling into `<dir>/spill`, interrupted when the attempt aborts. */
export function openScratchDuckDb(
  ctx: OperatorContext,
  dir: string,
  options: Pick<DuckDbOptions, 'memoryLimit' | 'threads'> = {},
): Promise<DuckDbSession> {
  return DuckDbSession.open({
    ...options,
    tempDirectory: path.join(dir, 'spill'),
    signal: ctx.signal,
  });
}

/** Runs `fn` with a scratch folder and a DuckDB session in it, both closed afterwards. */
export function withScratchDuckDb<T>(
  ctx: OperatorContext,
  options: Pick<DuckDbOptions, 'memoryLimit' | 'threads'>,
  fn: (session: DuckDbSession, dir: string) => Promise<T>,
): Promise<T> {
  return withScratch(ctx, async (dir) => {
    const session = await openScratchDuckDb(ctx, dir, options);
    try {
      return await fn(session, dir);
    } finally {
      session.close();
    }
  });
}

/**
 * `withScratchDuckDb` for a stream: yields what `fn` yields; the session and the folder
 * are closed when the stream ends, fails or is abandoned (`return()`, a `break` out of
 * `for await`). Nothing is opened before the first value is asked for.
 */
export async function* streamWithScratchDuckDb<T>(
  ctx: OperatorContext,
  options: Pick<DuckDbOptions, 'memoryLimit' | 'threads'>,
  fn: (session: DuckDbSession, dir: string) => AsyncIterable<T>,
): AsyncGenerator<T> {
  const dir = await createScratch(datasetsRootOf(ctx));
  try {
    const session = await openScratchDuckDb(ctx, dir, options);
    try {
      yield* fn(session, dir);
    } finally {
      session.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

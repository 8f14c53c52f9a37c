/**
 * Scratch folders for operators (CSV files on their way in or out, DuckDB spill files):
 * `<datasets root>/.tmp/<uuid>`, on the same disk as the versions, removed when the
 * work ends, whether it succeeded or not.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { OperatorContext } from '../operators/operator.ts';
import { datasetsRootOf } from './task-inputs.ts';

/** Runs `fn` with a fresh scratch folder, removed afterwards. */
export async function withScratch<T>(
  ctx: OperatorContext,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = path.join(datasetsRootOf(ctx), '.tmp', randomUUID());
  await mkdir(dir, { recursive: true });
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

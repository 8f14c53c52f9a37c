/**
 * Where Updraft's own code is at run time. Updraft runs either from its TypeScript
 * sources (with tsx) or from the compiled `dist/`; pipelines and child processes must use
 * the same form as the process that loads them.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Whether this process runs Updraft from `.ts` sources (tsx) rather than from `dist/`. */
export const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

const EXTENSION = RUNNING_FROM_SOURCE ? '.ts' : '.js';

/**
 * File URL of the `updraft` package entry that pipelines import (`src/index.ts` or
 * `dist/index.js`), so pipeline code and the worker share one module instance.
 */
export const UPDRAFT_ENTRY_URL = new URL(`../index${EXTENSION}`, import.meta.url).href;

/** Absolute path of a module of this folder, by name without extension. */
export function loaderModulePath(name: string): string {
  return fileURLToPath(new URL(`./${name}${EXTENSION}`, import.meta.url));
}

/**
 * Node options for a child process that runs Updraft modules: `--import tsx` (by file
 * URL, so it works from any working directory) when running from sources.
 */
export function childExecArgv(): string[] {
  if (!RUNNING_FROM_SOURCE) return [];
  const tsx = createRequire(import.meta.url).resolve('tsx');
  return ['--import', pathToFileURL(tsx).href];
}

/** Folder of cached pipeline bundles inside an Updraft home. */
export function pipelineCacheDir(home: string): string {
  return path.join(path.resolve(home), 'cache', 'pipelines');
}

/**
 * Importing bundled pipelines into the current process: the loader process does it to
 * read DAG specs, and worker processes do it (through `importPipeline`) to find the
 * function of a `ts` task. Each code version is imported once per process; ESM keeps
 * every imported module for the life of the process, so callers recycle processes that
 * import many versions.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDag } from '../authoring/dag.ts';
import type { Dag } from '../authoring/types.ts';
import { SpecError } from '../core/errors.ts';
import { bundlePipeline } from './bundle.ts';
import { pipelineCacheDir } from './runtime-paths.ts';

/** Options of `importPipeline`. */
export interface ImportPipelineOptions {
  /** Updraft home holding the bundle cache. Default: `$UPDRAFT_HOME`, else `./.updraft`. */
  home?: string;
}

/** The DAGs a module exports: default and named exports, and exported arrays of DAGs. */
export function exportedDags(namespace: Record<string, unknown>): Dag[] {
  const found: Dag[] = [];
  const keys = Object.keys(namespace).sort((a, b) =>
    a === 'default' ? -1 : b === 'default' ? 1 : a.localeCompare(b),
  );
  for (const key of keys) {
    const value = namespace[key];
    const candidates = Array.isArray(value) ? value : [value];
    for (const candidate of candidates) {
      if (isDag(candidate) && !found.includes(candidate)) found.push(candidate);
    }
  }
  return found;
}

let sourceMapsEnabled = false;

/**
 * Imports a bundle from the cache and returns the DAGs it exports. Turns on source maps
 * for this process first, so stack traces name the pipeline's own files and lines. A
 * `variant` imports it as a new module instance (its DAGs are built again).
 */
export async function importBundle(bundlePath: string, variant?: string): Promise<Dag[]> {
  if (!sourceMapsEnabled) {
    process.setSourceMapsEnabled(true);
    sourceMapsEnabled = true;
  }
  const url = pathToFileURL(bundlePath);
  if (variant !== undefined) url.searchParams.set('load', variant);
  const namespace: Record<string, unknown> = await import(/* @vite-ignore */ url.href);
  return exportedDags(namespace);
}

/** Imports in flight or done, by code hash. */
const imported = new Map<string, Promise<Dag[]>>();

async function importOnce(codeHash: string, bundlePath: string): Promise<Dag[]> {
  let loading = imported.get(codeHash);
  if (loading === undefined) {
    loading = importBundle(bundlePath);
    imported.set(codeHash, loading);
    loading.catch(() => imported.delete(codeHash));
  }
  return loading;
}

function homeOf(options: ImportPipelineOptions): string {
  return path.resolve(options.home ?? process.env.UPDRAFT_HOME ?? '.updraft');
}

/**
 * For worker processes: the DAGs of pipeline file `fileloc` at code version `codeHash`.
 * Imports the cached bundle of that version when it is there; otherwise (no hash given,
 * or the cache was cleaned) bundles the file as it is now. The returned `codeHash` says
 * which version was imported: when it differs from the one asked for, the file has
 * changed since. Throws a `SpecError` when the file does not bundle, and whatever the
 * pipeline's top-level code throws.
 */
export async function importPipeline(
  fileloc: string,
  codeHash?: string,
  options: ImportPipelineOptions = {},
): Promise<{ codeHash: string; dags: Dag[] }> {
  const cacheDir = pipelineCacheDir(homeOf(options));
  if (codeHash !== undefined) {
    const done = imported.get(codeHash);
    if (done !== undefined) return { codeHash, dags: await done };
    const cached = path.join(cacheDir, `${codeHash}.mjs`);
    if (await exists(cached)) return { codeHash, dags: await importOnce(codeHash, cached) };
  }
  const bundle = await bundlePipeline(path.resolve(fileloc), cacheDir);
  if (!bundle.ok) throw new SpecError(bundle.issues);
  return { codeHash: bundle.codeHash, dags: await importOnce(bundle.codeHash, bundle.bundlePath) };
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

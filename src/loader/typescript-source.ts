/**
 * The source for TypeScript and JavaScript pipelines (`*.ts`, `*.mts`, `*.js`, `*.mjs`).
 * Each file is bundled by esbuild (in parallel) into the bundle cache, then imported in
 * the loader process (never in the calling process). A file whose bundle did not change
 * since the last load keeps its last result without being imported again.
 */
import type { Clock } from '../core/clock.ts';
import { contentDigest, currentDigest, inputsUnchanged } from '../core/load-inputs.ts';
import { bundlePipeline } from './bundle.ts';
import { LoaderProcess } from './loader-process.ts';
import { loadInputsOf, type PipelineSource, type SourceFileResult } from './pipeline-source.ts';
import { pipelineCacheDir } from './runtime-paths.ts';

/** Options of `TypeScriptSource`. */
export interface TypeScriptSourceOptions {
  /** Updraft home; bundles go to `<home>/cache/pipelines/`. */
  home: string;
  /** Files bundled at once. Default 8 (esbuild also uses every core for each build). */
  bundleConcurrency?: number;
  /** See `LoaderProcessOptions.importTimeoutMs`. Default 30 000 ms. */
  importTimeoutMs?: number;
  /** See `LoaderProcessOptions.maxImports`. Default 200. */
  maxImportsPerProcess?: number;
  /** Clock for import timeouts. Default: the system clock. */
  clock?: Clock;
}

/** Type declarations and test files are not pipelines. */
const NOT_PIPELINES = /(?:\.d\.[cm]?ts|\.(?:test|spec)\.[cm]?[jt]s)$/;

export class TypeScriptSource implements PipelineSource {
  readonly name = 'typescript';
  readonly extensions = ['.ts', '.mts', '.js', '.mjs'] as const;
  private readonly cacheDir: string;
  private readonly concurrency: number;
  private readonly process: LoaderProcess;
  /** Last good result of each file, with the code hash it was read from. */
  private readonly last = new Map<string, SourceFileResult>();

  constructor(options: TypeScriptSourceOptions) {
    this.cacheDir = pipelineCacheDir(options.home);
    this.concurrency = options.bundleConcurrency ?? 8;
    this.process = new LoaderProcess({
      importTimeoutMs: options.importTimeoutMs,
      maxImports: options.maxImportsPerProcess,
      clock: options.clock,
    });
  }

  accepts(fileloc: string): boolean {
    return !NOT_PIPELINES.test(fileloc);
  }

  async load(files: readonly string[]): Promise<SourceFileResult[]> {
    const results: SourceFileResult[] = [];
    const imports: Promise<void>[] = [];
    // Imports start as soon as each bundle is ready, while others are still bundling.
    await forEachLimited(files, this.concurrency, async (fileloc, i) => {
      let bundle: Awaited<ReturnType<typeof bundlePipeline>>;
      try {
        bundle = await bundlePipeline(fileloc, this.cacheDir);
      } catch (error) {
        const message = `could not bundle the file: ${error instanceof Error ? error.message : String(error)}`;
        results[i] = {
          fileloc,
          codeHash: null,
          dags: [],
          issues: [{ file: fileloc, message }],
          inputs: [fileloc],
        };
        return;
      }
      if (!bundle.ok) {
        results[i] = {
          fileloc,
          codeHash: null,
          dags: [],
          issues: bundle.issues,
          inputs: bundle.inputs,
        };
        return;
      }
      const previous = this.last.get(fileloc);
      let variant: string | undefined;
      if (previous?.codeHash === bundle.codeHash) {
        // Same code: the DAGs are the same unless a file they read (a SQL model) changed.
        const read = loadInputsOf(previous.dags);
        if (inputsUnchanged(read)) {
          results[i] = { ...previous, inputs: [...bundle.inputs, ...read.map((r) => r.path)] };
          return;
        }
        variant = contentDigest(read.map((r) => currentDigest(r.path)).join('\n'));
      }
      imports.push(
        this.process.importFile(fileloc, bundle.bundlePath, variant).then((outcome) => {
          const result: SourceFileResult = {
            fileloc,
            codeHash: bundle.codeHash,
            dags: outcome.dags,
            issues: outcome.issues,
            inputs: [...bundle.inputs, ...loadInputsOf(outcome.dags).map((r) => r.path)],
          };
          if (outcome.failed) this.last.delete(fileloc);
          else this.last.set(fileloc, result);
          results[i] = result;
        }),
      );
    });
    await Promise.all(imports);
    return results;
  }

  forget(fileloc: string): void {
    this.last.delete(fileloc);
  }

  close(): Promise<void> {
    return this.process.close();
  }
}

/** Runs `fn` on every item, at most `limit` at a time. */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

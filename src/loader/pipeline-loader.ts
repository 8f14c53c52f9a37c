/**
 * The loader core: finds pipeline files, hands each to the source that reads its kind,
 * and turns what the sources read into `FileLoadResult`s. It knows nothing of any one
 * kind of file (see `pipeline-source.ts`).
 */
import type { Clock } from '../core/clock.ts';
import { discoverPipelineFiles } from './discover.ts';
import { type FileLoadResult, toFileLoadResult } from './file-load-result.ts';
import type { PipelineSource } from './pipeline-source.ts';
import { defaultSources } from './sources.ts';

/** Options of `PipelineLoader`. */
export interface PipelineLoaderOptions {
  /** Folder searched (recursively) for pipeline files. */
  pipelinesDir: string;
  /** Updraft home (bundle cache). */
  home: string;
  /** Sources to use. Default: `defaultSources` (TypeScript/JavaScript). */
  sources?: PipelineSource[];
  /** Clock for timeouts. Default: the system clock. */
  clock?: Clock;
}

/** A loaded file, with the paths whose change means it must be loaded again. */
export interface LoadedFile {
  result: FileLoadResult;
  inputs: string[];
}

export class PipelineLoader {
  readonly pipelinesDir: string;
  private readonly sources: PipelineSource[];

  constructor(options: PipelineLoaderOptions) {
    this.pipelinesDir = options.pipelinesDir;
    this.sources =
      options.sources ??
      defaultSources({
        home: options.home,
        clock: options.clock,
        pipelinesDir: options.pipelinesDir,
      });
  }

  /** The source that reads `fileloc` (longest matching extension), if any. */
  sourceFor(fileloc: string): PipelineSource | undefined {
    let best: PipelineSource | undefined;
    let length = 0;
    for (const source of this.sources) {
      for (const extension of source.extensions) {
        if (extension.length > length && fileloc.endsWith(extension) && source.accepts(fileloc)) {
          best = source;
          length = extension.length;
        }
      }
    }
    return best;
  }

  /** Absolute paths of every pipeline file, sorted. */
  discover(): Promise<string[]> {
    return discoverPipelineFiles(
      this.pipelinesDir,
      (fileloc) => this.sourceFor(fileloc) !== undefined,
    );
  }

  /** Loads files (each by its source, sources in parallel); results in the order given. */
  async load(files: readonly string[]): Promise<LoadedFile[]> {
    const bySource = new Map<PipelineSource, number[]>();
    const loaded: LoadedFile[] = [];
    files.forEach((fileloc, i) => {
      const source = this.sourceFor(fileloc);
      if (source === undefined) {
        loaded[i] = {
          result: {
            fileloc,
            codeHash: null,
            dags: [],
            issues: [{ file: fileloc, message: 'no pipeline source reads this kind of file' }],
          },
          inputs: [fileloc],
        };
        return;
      }
      bySource.set(source, [...(bySource.get(source) ?? []), i]);
    });
    await Promise.all(
      [...bySource].map(async ([source, indexes]) => {
        const results = await source.load(indexes.map((i) => files[i] ?? ''));
        results.forEach((result, j) => {
          loaded[indexes[j] ?? 0] = { result: toFileLoadResult(result), inputs: result.inputs };
        });
      }),
    );
    return loaded;
  }

  /** Tells the sources a file is gone. */
  forget(fileloc: string): void {
    this.sourceFor(fileloc)?.forget(fileloc);
  }

  /** Stops the sources' processes. */
  async close(): Promise<void> {
    await Promise.all(this.sources.map((source) => source.close()));
  }
}

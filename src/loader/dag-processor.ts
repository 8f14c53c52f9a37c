/**
 * The DAG processor: keeps the scheduler's view of the pipelines folder up to date.
 *
 * - `start()` loads every pipeline file and resolves with all results.
 * - Then it watches the folder (`fs.watch`, recursive, debounced) and also rescans it
 *   every `rescanIntervalMs` as a fallback (a missed event, a helper module outside the
 *   folder). A rescan compares the modification time and size of every file and of
 *   everything each file imports, and loads only what changed.
 * - A file whose result changed is reported through `onResult`; a file that disappeared
 *   through `onRemoved`. A change can also alter another file's result: when the file
 *   that owned a DAG id loses it, the next file defining that id takes it over.
 * - `stop()` ends watching and stops the loader process.
 *
 * User code runs in the loader process only, never in the process that runs this.
 */
import { type FSWatcher, watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { type Clock, systemClock } from '../core/clock.ts';
import {
  assignDagIds,
  type FileLoadResult,
  failAllOnIssues,
  strictPipelinesByDefault,
} from './file-load-result.ts';
import { PipelineLoader } from './pipeline-loader.ts';
import type { PipelineSource } from './pipeline-source.ts';

/** Options of `DagProcessor`. */
export interface DagProcessorOptions {
  /** Folder searched (recursively) for pipeline files. */
  pipelinesDir: string;
  /** Updraft home (bundle cache). */
  home: string;
  /** Receives the new result of a file whose result changed after the initial load. */
  onResult(result: FileLoadResult): void;
  /** Receives the path of a pipeline file that is gone (after the initial load). */
  onRemoved(fileloc: string): void;
  /** Receives a failed rescan (e.g. the folder was removed). Default: a process warning. */
  onError?(error: Error): void;
  /** Quiet time after a file event before rescanning. Default 200 ms. */
  debounceMs?: number;
  /** Time between fallback rescans. Default 30 000 ms. */
  rescanIntervalMs?: number;
  /** Watch the folder for changes (false: periodic rescans only). Default true. */
  watch?: boolean;
  /** Sources to use. Default: `defaultSources`. */
  sources?: PipelineSource[];
  /** Clock for the debounce, rescans and import timeouts. Default: the system clock. */
  clock?: Clock;
  /**
   * Strict loading: any problem in any file stops every DAG (see `failAllOnIssues`).
   * Default `UPDRAFT_STRICT_PIPELINES=true`, else false.
   */
  strict?: boolean;
}

/** What is known about one pipeline file. */
interface KnownFile {
  result: FileLoadResult;
  /** Signature (mtime and size) of each input when it was loaded. */
  signatures: Map<string, string>;
}

export class DagProcessor {
  private readonly options: DagProcessorOptions;
  private readonly loader: PipelineLoader;
  private readonly clock: Clock;
  private readonly files = new Map<string, KnownFile>();
  /** Last result reported for each file, as JSON. */
  private readonly reported = new Map<string, string>();
  /** Last result object compared for each file. */
  private readonly reportedResults = new Map<string, FileLoadResult>();
  private watcher: FSWatcher | undefined;
  private cancelDebounce: (() => void) | undefined;
  private cancelRescan: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(options: DagProcessorOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.loader = new PipelineLoader({
      pipelinesDir: options.pipelinesDir,
      home: options.home,
      sources: options.sources,
      clock: this.clock,
    });
  }

  /** Loads every pipeline file, then starts watching. Resolves with every file's result. */
  async start(): Promise<FileLoadResult[]> {
    const results = await this.scan();
    for (const result of results) {
      this.reported.set(result.fileloc, JSON.stringify(result));
      this.reportedResults.set(result.fileloc, result);
    }
    if (this.options.watch !== false) this.watchFolder();
    this.armRescan();
    return results;
  }

  /**
   * Rescans now and reports what changed; resolves when done. Calls made while a rescan
   * runs are folded into one more rescan after it.
   */
  refresh(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          this.report(await this.scan());
        } catch (error) {
          this.fail(error);
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops watching and rescanning, waits for a rescan in flight, stops the loader process. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    this.cancelDebounce?.();
    this.cancelRescan?.();
    await this.running;
    await this.loader.close();
  }

  /** Loads new and changed files, forgets removed ones; returns every file's result. */
  private async scan(): Promise<FileLoadResult[]> {
    const files = await this.loader.discover();
    const present = new Set(files);
    for (const fileloc of this.files.keys()) {
      if (present.has(fileloc)) continue;
      this.files.delete(fileloc);
      this.loader.forget(fileloc);
    }
    const changed: string[] = [];
    // Inputs shared by many files (a YAML defaults.yaml) are looked at once per scan.
    const before = new Map<string, Promise<string>>();
    const signature = (input: string): Promise<string> => {
      let known = before.get(input);
      if (known === undefined) {
        known = signatureOf(input);
        before.set(input, known);
      }
      return known;
    };
    await Promise.all(
      files.map(async (fileloc) => {
        const known = this.files.get(fileloc);
        const inputs = known === undefined ? [fileloc] : [...known.signatures.keys()];
        let differs = known === undefined;
        for (const input of inputs) {
          if (known !== undefined && known.signatures.get(input) !== (await signature(input))) {
            differs = true;
          }
        }
        if (differs) changed.push(fileloc);
      }),
    );
    changed.sort();
    const loaded = await this.loader.load(changed);
    for (const { result, inputs } of loaded) {
      const signatures = new Map<string, string>();
      for (const input of inputs) signatures.set(input, await signature(input));
      this.files.set(result.fileloc, { result, signatures });
    }
    const results = assignDagIds([...this.files.values()].map((file) => file.result));
    return (this.options.strict ?? strictPipelinesByDefault()) ? failAllOnIssues(results) : results;
  }

  /** Reports removed files and every result that differs from the last one reported. */
  private report(results: FileLoadResult[]): void {
    const present = new Set(results.map((result) => result.fileloc));
    for (const fileloc of [...this.reported.keys()]) {
      if (present.has(fileloc)) continue;
      this.reported.delete(fileloc);
      this.reportedResults.delete(fileloc);
      this.deliver(() => this.options.onRemoved(fileloc));
    }
    for (const result of results) {
      // A file that was not loaded again keeps its result object: nothing to compare.
      if (this.reportedResults.get(result.fileloc) === result) continue;
      this.reportedResults.set(result.fileloc, result);
      const json = JSON.stringify(result);
      if (this.reported.get(result.fileloc) === json) continue;
      this.reported.set(result.fileloc, json);
      this.deliver(() => this.options.onResult(result));
    }
  }

  private deliver(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    const failure = error instanceof Error ? error : new Error(String(error));
    if (this.options.onError !== undefined) this.options.onError(failure);
    else process.emitWarning(failure);
  }

  private watchFolder(): void {
    try {
      this.watcher = watch(this.options.pipelinesDir, { recursive: true }, (_event, filename) => {
        if (filename !== null && isHidden(filename.toString())) return;
        this.scheduleRefresh();
      });
      this.watcher.on('error', (error) => {
        // The periodic rescan carries on without the watcher.
        this.watcher?.close();
        this.watcher = undefined;
        this.fail(error);
      });
    } catch (error) {
      this.fail(error);
    }
  }

  private scheduleRefresh(): void {
    if (this.stopped) return;
    this.cancelDebounce?.();
    this.cancelDebounce = this.clock.setTimer(this.options.debounceMs ?? 200, () => {
      this.cancelDebounce = undefined;
      void this.refresh();
    });
  }

  private armRescan(): void {
    if (this.stopped) return;
    this.cancelRescan = this.clock.setTimer(this.options.rescanIntervalMs ?? 30_000, () => {
      void this.refresh().finally(() => this.armRescan());
    });
  }
}

/** Whether a path relative to the watched folder is in a skipped folder or file. */
function isHidden(relative: string): boolean {
  return relative.split(path.sep).some((part) => part.startsWith('.') || part === 'node_modules');
}

/** Modification time and size of a file, or `missing`. */
async function signatureOf(file: string): Promise<string> {
  try {
    const info = await stat(file);
    return `${info.mtimeMs}:${info.size}`;
  } catch {
    return 'missing';
  }
}

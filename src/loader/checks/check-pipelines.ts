/**
 * Loads pipeline files for the checking commands (`updraft dags validate`, `render`,
 * `lint`): every kind of file, with a chosen environment for YAML, keeping what is
 * needed to point a finding at a YAML line. Nothing is stored and no scheduler runs.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { DagSpec } from '../../core/dag-spec.ts';
import type { SpecIssue } from '../../core/errors.ts';
import { discoverPipelineFiles } from '../discover.ts';
import { assignDagIds, type FileLoadResult } from '../file-load-result.ts';
import { PipelineLoader } from '../pipeline-loader.ts';
import { TypeScriptSource } from '../typescript-source.ts';
import type { CompiledDag } from '../yaml/compile-dag.ts';
import { YamlSource } from '../yaml/yaml-source.ts';

/** How bad a finding is: errors fail a check; warnings fail it with `--strict`. */
export type Severity = 'error' | 'warning';

/** One finding of a check: an issue with its severity (and the lint rule that found it). */
export interface Finding extends SpecIssue {
  severity: Severity;
  /** Lint rule name, for lint findings. */
  rule?: string;
}

/** A loaded file, with what the checks need. */
export interface CheckedFile {
  result: FileLoadResult;
  /** YAML DAGs as compiled (valid or not); empty for other kinds of file. */
  compiled: CompiledDag[];
}

/** Options of `loadForChecks`. */
export interface CheckOptions {
  /** The pipelines folder (root of `defaults.yaml` merging). */
  pipelinesDir: string;
  /** Updraft home (bundle cache of TypeScript pipelines). */
  home: string;
  /** Files or folders to check; default: the pipelines folder. */
  paths?: readonly string[];
  /** Environment whose YAML overrides apply. Default `UPDRAFT_ENV`. */
  environment?: string;
}

/** Loads the files named by `options.paths` (folders searched) and compiles them. */
export async function loadForChecks(options: CheckOptions): Promise<CheckedFile[]> {
  const yaml = new YamlSource({
    pipelinesDir: options.pipelinesDir,
    environment: options.environment,
  });
  const loader = new PipelineLoader({
    pipelinesDir: options.pipelinesDir,
    home: options.home,
    sources: [new TypeScriptSource({ home: options.home }), yaml],
  });
  try {
    const files = await filesOf(loader, options.paths ?? [options.pipelinesDir]);
    const loaded = await loader.load(files);
    const results = assignDagIds(loaded.map((file) => file.result));
    return Promise.all(
      results.map(async (result) => ({
        result,
        compiled:
          loader.sourceFor(result.fileloc) === yaml
            ? (await yaml.compile(result.fileloc)).compiled.compiled
            : [],
      })),
    );
  } finally {
    await loader.close();
  }
}

/** The pipeline files named by `paths`: files as given, folders searched. */
async function filesOf(loader: PipelineLoader, paths: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const given of paths) {
    const absolute = path.resolve(given);
    const info = await stat(absolute).catch(() => undefined);
    if (info === undefined) throw new Error(`no such file or folder: ${given}`);
    if (info.isDirectory()) {
      const files = await discoverPipelineFiles(absolute, (f) => loader.sourceFor(f) !== undefined);
      for (const file of files) found.add(file);
    } else {
      found.add(absolute);
    }
  }
  return [...found].sort();
}

/** Every issue of the loaded files as an error finding. */
export function loadFindings(files: readonly CheckedFile[]): Finding[] {
  return files.flatMap(({ result }) =>
    result.issues.map((issue) => ({ file: result.fileloc, ...issue, severity: 'error' as const })),
  );
}

/** The valid DAGs of the loaded files, with a function that locates findings about them. */
export function loadedDags(
  files: readonly CheckedFile[],
): { spec: DagSpec; fileloc: string; locate: (issue: SpecIssue) => SpecIssue }[] {
  return files.flatMap(({ result, compiled }) =>
    result.dags.map(({ spec }) => {
      const locator = compiled.find((c) => c.dagId === spec.dagId)?.locator;
      return {
        spec,
        fileloc: result.fileloc,
        locate: (issue: SpecIssue): SpecIssue =>
          locator === undefined
            ? { file: result.fileloc, dagId: spec.dagId, ...issue }
            : locator.locate({ dagId: spec.dagId, ...issue }),
      };
    }),
  );
}

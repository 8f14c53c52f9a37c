/** Loading YAML pipelines written by a test into a temporary folder. */
import path from 'node:path';
import type { SourceFileResult } from '../../../src/loader/pipeline-source.ts';
import { YamlSource, type YamlSourceOptions } from '../../../src/loader/yaml/yaml-source.ts';
import { tempPipelines } from '../helpers.ts';

/** A pipelines folder holding `files`, a source reading it, and a way to load files. */
export async function yamlFolder(
  files: Record<string, string>,
  options: Omit<YamlSourceOptions, 'pipelinesDir'> = {},
): Promise<{
  dir: string;
  source: YamlSource;
  load(...names: string[]): Promise<SourceFileResult[]>;
}> {
  const dir = await tempPipelines(files);
  const source = new YamlSource({ pipelinesDir: dir, ...options });
  return {
    dir,
    source,
    load: (...names) => source.load(names.map((name) => path.join(dir, name))),
  };
}

/** Loads one YAML file (`text`) and returns its result. */
export async function loadOne(
  text: string,
  options: Omit<YamlSourceOptions, 'pipelinesDir'> = {},
): Promise<SourceFileResult> {
  const folder = await yamlFolder({ 'p.yaml': text }, options);
  const [result] = await folder.load('p.yaml');
  if (result === undefined) throw new Error('no result');
  return result;
}

/** Every issue of a result: the file's and its DAGs'. */
export function allIssues(result: SourceFileResult) {
  return [...result.issues, ...result.dags.flatMap((dag) => dag.issues)];
}

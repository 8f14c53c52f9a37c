/**
 * Finds a DAG among the YAML pipelines of a folder, built (for `updraft dags test`, which
 * runs a DAG in-process without a store). Only files that mention the id are compiled.
 */
import { readFile } from 'node:fs/promises';
import type { Dag } from '../../authoring/types.ts';
import { SpecError } from '../../core/errors.ts';
import { discoverPipelineFiles } from '../discover.ts';
import { YamlSource } from './yaml-source.ts';

/** A DAG found in a YAML file: the built DAG, its file and code hash. */
export interface FoundYamlDag {
  dag: Dag;
  fileloc: string;
  codeHash: string;
}

/**
 * The DAG `dagId` of the YAML files under `pipelinesDir`, or undefined when none defines
 * it. Throws `SpecError` with every issue when the DAG (or its file) has problems.
 */
export async function findYamlDag(
  pipelinesDir: string,
  dagId: string,
): Promise<FoundYamlDag | undefined> {
  const source = new YamlSource({ pipelinesDir });
  const files = await discoverPipelineFiles(
    pipelinesDir,
    (f) => source.extensions.some((ext) => f.endsWith(ext)) && source.accepts(f),
  );
  for (const fileloc of files) {
    const text = await readFile(fileloc, 'utf8').catch(() => '');
    if (!text.includes(dagId)) continue;
    const { result, compiled } = await source.compile(fileloc);
    const found = compiled.compiled.find((c) => c.dagId === dagId);
    if (found === undefined) continue;
    const issues = [
      ...result.issues.filter((i) => i.dagId === dagId || i.dagId === undefined),
      ...found.issues,
    ];
    if (found.dag === undefined || issues.length > 0 || result.codeHash === null) {
      throw new SpecError(issues);
    }
    return { dag: found.dag, fileloc, codeHash: result.codeHash };
  }
  return undefined;
}

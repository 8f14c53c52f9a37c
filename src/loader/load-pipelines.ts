/**
 * One-shot loading of every pipeline in a folder (CLI `dags list`, `dags validate`).
 */
import {
  assignDagIds,
  type FileLoadResult,
  failAllOnIssues,
  strictPipelinesByDefault,
} from './file-load-result.ts';
import { PipelineLoader, type PipelineLoaderOptions } from './pipeline-loader.ts';

/**
 * Loads every pipeline file under `pipelinesDir`; one result per file, sorted by path.
 * Problems of one file never stop the others, unless `strict` (default
 * `UPDRAFT_STRICT_PIPELINES=true`): then any problem stops every DAG. Rejects only when
 * the folder cannot be read.
 */
export async function loadPipelines(
  pipelinesDir: string,
  home: string,
  options: Pick<PipelineLoaderOptions, 'sources' | 'clock'> & { strict?: boolean } = {},
): Promise<FileLoadResult[]> {
  const loader = new PipelineLoader({
    pipelinesDir,
    home,
    sources: options.sources,
    clock: options.clock,
  });
  try {
    const files = await loader.discover();
    const loaded = await loader.load(files);
    const results = assignDagIds(loaded.map((file) => file.result));
    return (options.strict ?? strictPipelinesByDefault()) ? failAllOnIssues(results) : results;
  } finally {
    await loader.close();
  }
}

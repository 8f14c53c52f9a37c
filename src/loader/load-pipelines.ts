/**
 * One-shot loading of every pipeline in a folder (CLI `dags list`, `dags validate`).
 */
import { assignDagIds, type FileLoadResult } from './file-load-result.ts';
import { PipelineLoader, type PipelineLoaderOptions } from './pipeline-loader.ts';

/**
 * Loads every pipeline file under `pipelinesDir`; one result per file, sorted by path.
 * Problems of one file never stop the others. Rejects only when the folder cannot be
 * read.
 */
export async function loadPipelines(
  pipelinesDir: string,
  home: string,
  options: Pick<PipelineLoaderOptions, 'sources' | 'clock'> = {},
): Promise<FileLoadResult[]> {
  const loader = new PipelineLoader({ pipelinesDir, home, ...options });
  try {
    const files = await loader.discover();
    const loaded = await loader.load(files);
    return assignDagIds(loaded.map((file) => file.result));
  } finally {
    await loader.close();
  }
}

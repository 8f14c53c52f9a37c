/**
 * Where dataset versions live. `DatasetStorage` is the interface (object storage can
 * implement it later); `LocalDatasetStorage` keeps them under `<home>/datasets`:
 *
 *     <root>/orders/v1/part-0.parquet ... manifest.json     a published version
 *     <root>/.staging/<uuid>/                               an attempt writing a version
 *     <root>/.staging/<uuid>.json                           who writes it (StagingMeta)
 *
 * A writer fills a staging folder; only `publish`, called when the attempt's success is
 * committed, moves it to its version folder with one `rename`, so a version is either
 * complete or absent. Staging folders of failed or retried attempts are never
 * published; vacuum removes them.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UpdraftError } from '../core/errors.ts';
import { assertDatasetName } from './names.ts';

/** Who is writing into a staging folder (kept in `<uuid>.json` beside it). */
export interface StagingMeta {
  dataset: string;
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  /** The attempt's try; `NOT_AN_ATTEMPT` for a writer that is no attempt (a replay). */
  tryNumber: number;
  createdAt: string;
}

/** The try number of a staging folder no attempt writes (a quarantine replay). */
export const NOT_AN_ATTEMPT = 0;

export interface StagedFolder {
  /** Absolute path. */
  dir: string;
  /** Path relative to the root (`.staging/<uuid>`). */
  rel: string;
  meta: StagingMeta | null;
  modifiedAt: Date;
}

export interface DatasetStorage {
  /** Absolute root folder. */
  readonly root: string;
  /** Creates an empty staging folder for one attempt writing one dataset. */
  createStaging(meta: StagingMeta): Promise<StagedFolder>;
  /** The staging folder at `rel` (as an effect names it); throws if it is not one. */
  stagingAt(rel: string): string;
  /** Moves a staging folder to `target` (relative to the root) in one rename. */
  publish(stagingRel: string, target: string): Promise<void>;
  /** Absolute path of a published folder. */
  resolve(rel: string): string;
  /** Removes a published or staging folder (no error when absent). */
  remove(rel: string): Promise<void>;
  /** Folders of `dataset` on disk (relative paths such as `orders/v3`). */
  listFolders(dataset: string): Promise<string[]>;
  /** Dataset folders on disk. */
  listDatasets(): Promise<string[]>;
  /** Every staging folder. */
  listStaging(): Promise<StagedFolder[]>;
}

const STAGING = '.staging';

/** Dataset storage on the local file system. */
export class LocalDatasetStorage implements DatasetStorage {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  async createStaging(meta: StagingMeta): Promise<StagedFolder> {
    assertDatasetName(meta.dataset);
    const rel = `${STAGING}/${randomUUID()}`;
    const dir = path.join(this.root, rel);
    await mkdir(dir, { recursive: true });
    await writeFile(`${dir}.json`, JSON.stringify(meta));
    return { dir, rel, meta, modifiedAt: new Date() };
  }

  stagingAt(rel: string): string {
    if (!/^\.staging\/[0-9a-f-]{36}$/.test(rel)) {
      throw new UpdraftError('dataset_staging_invalid', `'${rel}' is not a staging folder`);
    }
    return path.join(this.root, rel);
  }

  async publish(stagingRel: string, target: string): Promise<void> {
    const from = this.stagingAt(stagingRel);
    const to = this.resolve(target);
    await mkdir(path.dirname(to), { recursive: true });
    // A folder left at the target by a transaction that rolled back after its rename
    // has no registry row: it is an orphan and may be replaced.
    await rm(to, { recursive: true, force: true });
    await rename(from, to);
    await rm(`${from}.json`, { force: true });
  }

  resolve(rel: string): string {
    const abs = path.resolve(this.root, rel);
    if (abs !== this.root && !abs.startsWith(this.root + path.sep)) {
      throw new UpdraftError('dataset_path_invalid', `'${rel}' is outside the dataset storage`);
    }
    return abs;
  }

  async remove(rel: string): Promise<void> {
    const abs = this.resolve(rel);
    await rm(abs, { recursive: true, force: true });
    if (rel.startsWith(`${STAGING}/`)) await rm(`${abs}.json`, { force: true });
  }

  async listFolders(dataset: string): Promise<string[]> {
    assertDatasetName(dataset);
    const entries = await readdir(path.join(this.root, dataset), { withFileTypes: true }).catch(
      () => [],
    );
    return entries.filter((e) => e.isDirectory()).map((e) => `${dataset}/${e.name}`);
  }

  async listDatasets(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  }

  async listStaging(): Promise<StagedFolder[]> {
    const base = path.join(this.root, STAGING);
    const entries = await readdir(base, { withFileTypes: true }).catch(() => []);
    const folders: StagedFolder[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const dir = path.join(base, entry.name);
      const info = await stat(dir).catch(() => null);
      if (info === null) continue;
      const meta = await readFile(`${dir}.json`, 'utf8')
        .then((text) => JSON.parse(text) as StagingMeta)
        .catch(() => null);
      folders.push({ dir, rel: `${STAGING}/${entry.name}`, meta, modifiedAt: info.mtime });
    }
    return folders;
  }
}

/** The dataset storage of a home folder: `<home>/datasets`. */
export function datasetsRootForHome(home: string): string {
  return path.join(path.resolve(home), 'datasets');
}

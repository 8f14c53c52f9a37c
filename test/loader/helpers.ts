import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';

/** The fixture pipelines folder. */
export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/pipelines');

/** A fresh temporary folder, removed when the current test ends. */
export async function tempDir(prefix = 'updraft-loader-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A temporary pipelines folder holding `files` (relative path → text). */
export async function tempPipelines(files: Record<string, string> = {}): Promise<string> {
  const dir = await tempDir('updraft-pipelines-');
  for (const [name, text] of Object.entries(files)) await writeText(path.join(dir, name), text);
  return dir;
}

/** Lets pipelines in `dir` import this repository's npm packages (a node_modules link). */
export async function linkNodeModules(dir: string): Promise<void> {
  await symlink(
    path.resolve(import.meta.dirname, '../../node_modules'),
    path.join(dir, 'node_modules'),
  );
}

/** Writes a file, creating its folder. */
export async function writeText(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
}

/** Copies the fixture pipelines into `dir`. */
export async function copyFixtures(dir: string): Promise<void> {
  await cp(FIXTURES, dir, { recursive: true });
}

/** 1-based line of the first line of `file` that contains `marker`. */
export async function lineOf(file: string, marker: string): Promise<number> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  const index = lines.findIndex((line) => line.includes(marker));
  if (index < 0) throw new Error(`${marker} not found in ${file}`);
  return index + 1;
}

/** A minimal pipeline file defining DAG `dagId` with one task returning `value`. */
export function pipelineText(dagId: string, value = 'v1'): string {
  return [
    "import { dag } from 'updraft';",
    '',
    `export default dag({ id: '${dagId}' }, (d) => {`,
    `  d.task('t', () => '${value}');`,
    '});',
    '',
  ].join('\n');
}

/**
 * Finds pipeline files in a folder, recursively. Skipped: `node_modules`, folders and
 * files whose name starts with `.`, symbolic links to folders, and whatever
 * `.updraftignore` (in the pipelines folder) lists.
 *
 * `.updraftignore` has one pattern per line; `#` starts a comment. Like `.gitignore`
 * without negation: `*` matches within a name, `**` across folders, `?` one character; a
 * pattern with a `/` (other than a trailing one) is relative to the pipelines folder, one
 * without matches a file or folder name at any depth; a trailing `/` matches folders only.
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { UpdraftError } from '../core/errors.ts';

/** Name of the ignore file in the pipelines folder. */
export const IGNORE_FILE = '.updraftignore';

/** A compiled ignore pattern. */
interface IgnoreRule {
  regex: RegExp;
  /** Matched against the path relative to the pipelines folder (else the base name). */
  anchored: boolean;
  directoryOnly: boolean;
}

function globToRegex(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] ?? '';
    if (char === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (char === '*') {
      out += '[^/]*';
    } else if (char === '?') {
      out += '[^/]';
    } else {
      out += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`);
}

/** Parses `.updraftignore` text into rules. */
export function parseIgnoreFile(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const directoryOnly = line.endsWith('/');
    if (directoryOnly) line = line.slice(0, -1);
    const anchored = line.includes('/');
    if (line.startsWith('/')) line = line.slice(1);
    rules.push({ regex: globToRegex(line), anchored, directoryOnly });
  }
  return rules;
}

function ignored(rules: readonly IgnoreRule[], relative: string, isDirectory: boolean): boolean {
  const name = path.posix.basename(relative);
  return rules.some(
    (rule) =>
      (!rule.directoryOnly || isDirectory) && rule.regex.test(rule.anchored ? relative : name),
  );
}

async function readIgnoreRules(dir: string): Promise<IgnoreRule[]> {
  try {
    return parseIgnoreFile(await readFile(path.join(dir, IGNORE_FILE), 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Absolute paths of the files under `dir` that `accepts`, sorted. Rejects with a clear
 * message when `dir` is not a readable folder.
 */
export async function discoverPipelineFiles(
  dir: string,
  accepts: (fileloc: string) => boolean,
): Promise<string[]> {
  const root = path.resolve(dir);
  let rules: IgnoreRule[];
  try {
    rules = await readIgnoreRules(root);
    await readdir(root);
  } catch (error) {
    throw new UpdraftError(
      'pipelines_unreadable',
      `cannot read the pipelines folder ${root}: ${(error as Error).message}; ` +
        'create it or point Updraft at another one',
      { cause: error },
    );
  }
  const found: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch {
      // Removed or unreadable meanwhile: its files are simply not found this time.
      return;
    }
    await Promise.all(
      entries.map(async (entry) => {
        if (entry.name.startsWith('.') || entry.name === 'node_modules') return;
        const full = path.join(folder, entry.name);
        const relative = path.relative(root, full).split(path.sep).join('/');
        if (entry.isDirectory()) {
          if (!ignored(rules, relative, true)) await walk(full);
        } else if (
          (entry.isFile() || (entry.isSymbolicLink() && (await isFile(full)))) &&
          !ignored(rules, relative, false) &&
          accepts(full)
        ) {
          found.push(full);
        }
      }),
    );
  };
  await walk(root);
  return found.sort();
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

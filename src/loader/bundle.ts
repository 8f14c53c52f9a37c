/**
 * Bundles a TypeScript/JavaScript pipeline file with esbuild into one ES module in the
 * bundle cache, `<home>/cache/pipelines/<codeHash>.mjs`, where `codeHash` is the sha256
 * of the bundle. The bundle holds the file and everything it imports by relative path;
 * npm packages stay external (imported by absolute file URL, as resolved from the
 * pipeline's folder), and `updraft` resolves to this very copy of Updraft.
 *
 * Each module keeps its own `import.meta.url`, `import.meta.dirname` and
 * `import.meta.filename`, so code that reads files next to it (`new URL('./q.sql',
 * import.meta.url)`) works as if it were not bundled. An inline source map points stack
 * traces at the original files and lines.
 */

import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import type { SpecIssue } from '../core/errors.ts';
import { UPDRAFT_ENTRY_URL } from './runtime-paths.ts';
import { sha256 } from './version-hash.ts';

/** A pipeline bundled into the cache. */
export interface Bundle {
  ok: true;
  /** sha256 of the bundle: the code version. */
  codeHash: string;
  /** Absolute path of the bundle in the cache. */
  bundlePath: string;
  /** Absolute paths of the files in the bundle (the pipeline file and its local imports). */
  inputs: string[];
}

/** A pipeline that could not be bundled (syntax error, missing import, ...). */
export interface BundleFailure {
  ok: false;
  issues: SpecIssue[];
  /** Files read before the failure (at least the pipeline file), to watch for a fix. */
  inputs: string[];
}

const BUILTINS = new Set(builtinModules);

/** Marks bare imports external, resolved to absolute URLs; `updraft` is this copy. */
const externalPackages: esbuild.Plugin = {
  name: 'updraft-external-packages',
  setup(build) {
    build.onResolve({ filter: /^[^./#]/ }, async (args) => {
      if (args.pluginData === 'inner') return undefined;
      if (args.path === 'updraft') return { path: UPDRAFT_ENTRY_URL, external: true };
      if (args.path.startsWith('node:') || BUILTINS.has(args.path)) {
        return { path: args.path, external: true };
      }
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: 'inner',
      });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      if (resolved.external) return { path: args.path, external: true };
      return { path: pathToFileURL(resolved.path).href, external: true };
    });
  },
};

const LOADERS: Record<string, esbuild.Loader> = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.tsx': 'tsx',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.jsx': 'jsx',
};

/** Gives each module that uses `import.meta` its own values (see the module comment). */
const ownImportMeta: esbuild.Plugin = {
  name: 'updraft-import-meta',
  setup(build) {
    build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
      const loader = LOADERS[path.extname(args.path)];
      if (loader === undefined) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta')) return { contents: text, loader };
      const meta = JSON.stringify({
        url: pathToFileURL(args.path).href,
        dirname: path.dirname(args.path),
        filename: args.path,
      });
      // On the first line (after a shebang), so line numbers of the file do not move.
      const prelude = `var __updraft_import_meta = ${meta};`;
      const contents = text.startsWith('#!') ? text.replace(/^#!.*/, prelude) : `${prelude}${text}`;
      return { contents, loader };
    });
  },
};

/**
 * Bundles `fileloc` into `cacheDir` (written once per code hash, atomically). Never
 * rejects for a bad pipeline: build errors come back as issues with file, line and column.
 */
export async function bundlePipeline(
  fileloc: string,
  cacheDir: string,
): Promise<Bundle | BundleFailure> {
  const workingDir = path.dirname(fileloc);
  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    result = await esbuild.build({
      entryPoints: [fileloc],
      absWorkingDir: workingDir,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      // Source map paths are relative to the output folder: put it beside the pipeline
      // (nothing is written there) and make them absolute with `sourceRoot`, so the code
      // hash does not depend on where the bundle cache (the home folder) is.
      outfile: path.join(workingDir, '__updraft_bundle__.mjs'),
      sourceRoot: `${workingDir}${path.sep}`,
      sourcemap: 'inline',
      sourcesContent: false,
      metafile: true,
      logLevel: 'silent',
      legalComments: 'none',
      define: {
        'import.meta.url': '__updraft_import_meta.url',
        'import.meta.dirname': '__updraft_import_meta.dirname',
        'import.meta.filename': '__updraft_import_meta.filename',
      },
      plugins: [externalPackages, ownImportMeta],
    });
  } catch (error) {
    return { ok: false, issues: buildIssues(error, fileloc, workingDir), inputs: [fileloc] };
  }
  const output = result.outputFiles[0];
  if (output === undefined) {
    return {
      ok: false,
      issues: [{ file: fileloc, message: 'esbuild produced no output' }],
      inputs: [fileloc],
    };
  }
  const codeHash = sha256(output.contents);
  const bundlePath = path.join(cacheDir, `${codeHash}.mjs`);
  await writeOnce(bundlePath, output.contents);
  const inputs = Object.keys(result.metafile.inputs).map((input) =>
    path.resolve(workingDir, input),
  );
  return { ok: true, codeHash, bundlePath, inputs };
}

/** Writes `contents` to `file` unless it exists, via a temporary file and a rename. */
async function writeOnce(file: string, contents: Uint8Array): Promise<void> {
  try {
    await stat(file);
    return;
  } catch {
    // Not there yet.
  }
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, file);
}

function buildIssues(error: unknown, fileloc: string, workingDir: string): SpecIssue[] {
  const messages = (error as { errors?: esbuild.Message[] }).errors;
  if (!Array.isArray(messages) || messages.length === 0) {
    return [
      {
        file: fileloc,
        message: `bundling failed: ${error instanceof Error ? error.message : String(error)}`,
      },
    ];
  }
  return messages.map((message) => {
    const where = message.location;
    const hint = message.notes.map((note) => note.text).find((text) => text !== '');
    return {
      file: where?.file ? path.resolve(workingDir, where.file) : fileloc,
      ...(where ? { line: where.line, column: where.column + 1 } : {}),
      message: message.text,
      ...(hint === undefined ? {} : { hint }),
    };
  });
}

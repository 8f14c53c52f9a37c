/**
 * The source for YAML pipelines (`*.yaml`, `*.yml`). YAML holds no user code, so files
 * are parsed and compiled in the calling process (no loader process), with hard limits
 * on size, nesting and alias expansion (`parse-yaml.ts`).
 *
 * Nothing is parsed twice: a file's result is kept with the sha256 of its content, of
 * the `defaults.yaml` files above it, the environment name and the values of the
 * environment variables it read; a load whose key matches returns the kept result.
 * `defaults.yaml` files are parsed once per content and shared by every file below them.
 *
 * `defaults.yaml` files are not pipelines; every `defaults.yaml` from the pipelines
 * folder down to a file's folder is an input of that file (including ones that do not
 * exist yet, so creating one reloads the files below it).
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SpecIssue } from '../../core/errors.ts';
import { inputsUnchanged, type LoadInput } from '../../core/load-inputs.ts';
import { loadInputsOf, type PipelineSource, type SourceFileResult } from '../pipeline-source.ts';
import { checkSchema } from './check-schema.ts';
import { type CompiledFile, compileFile, type YamlLayer } from './compile-file.ts';
import type { EnvReads } from './interpolate.ts';
import { DEFAULT_YAML_LIMITS, parseYaml, type YamlLimits } from './parse-yaml.ts';
import { isYamlMap } from './yaml-value.ts';

/** Name of the files that hold defaults and templates for a folder and its subfolders. */
export const DEFAULTS_FILE = 'defaults.yaml';

/** Options of `YamlSource`. */
export interface YamlSourceOptions {
  /**
   * The pipelines folder: `defaults.yaml` files are read from here down to each file's
   * folder. Default: each file's own folder only.
   */
  pipelinesDir?: string;
  /** Environment for `${VAR}` and `UPDRAFT_ENV`. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Environment whose overrides apply. Default `env.UPDRAFT_ENV` (none when unset). */
  environment?: string;
  /** Limits per file. Default `DEFAULT_YAML_LIMITS`. */
  limits?: Partial<YamlLimits>;
}

/** A parsed file and what it read from the environment. */
interface ParsedLayer {
  layer: YamlLayer;
  envReads: EnvReads;
  hash: string;
}

/** A file's kept result. */
interface KeptResult {
  key: string;
  envReads: EnvReads;
  /** What its DAGs read while being built (SQL models): a change compiles it again. */
  loadInputs: LoadInput[];
  result: SourceFileResult;
  compiled: CompiledFile;
}

export class YamlSource implements PipelineSource {
  readonly name = 'yaml';
  readonly extensions = ['.yaml', '.yml'] as const;
  private readonly root: string | undefined;
  private readonly env: Readonly<Record<string, string | undefined>>;
  private readonly environment: string | undefined;
  private readonly limits: YamlLimits;
  private readonly kept = new Map<string, KeptResult>();
  /** Last parse of each file (a `defaults.yaml` is shared by the files below it). */
  private readonly layers = new Map<string, ParsedLayer>();
  /** Files parsed since this source was made (for tests and the benchmark). */
  parsedCount = 0;

  constructor(options: YamlSourceOptions = {}) {
    this.root = options.pipelinesDir === undefined ? undefined : path.resolve(options.pipelinesDir);
    this.env = options.env ?? process.env;
    this.environment = options.environment ?? (this.env.UPDRAFT_ENV || undefined);
    this.limits = { ...DEFAULT_YAML_LIMITS, ...options.limits };
  }

  accepts(fileloc: string): boolean {
    return path.basename(fileloc) !== DEFAULTS_FILE;
  }

  async load(files: readonly string[]): Promise<SourceFileResult[]> {
    // One read of each defaults.yaml per load, shared by the files below it.
    const defaults = new Map<string, Promise<ParsedLayer | undefined>>();
    const layerAt = (file: string) => {
      let layer = defaults.get(file);
      if (layer === undefined) {
        layer = this.readLayer(file, true);
        defaults.set(file, layer);
      }
      return layer;
    };
    return Promise.all(
      files.map(async (fileloc) => {
        const inputs = [fileloc, ...this.defaultsPaths(fileloc)];
        const above = (await Promise.all(inputs.slice(1).map(layerAt))).filter(
          (layer): layer is ParsedLayer => layer !== undefined,
        );
        return (await this.loadFile(fileloc, above, inputs)).result;
      }),
    );
  }

  /**
   * Loads one file and returns its compiled form too (`updraft dags render`). Uses and
   * updates the kept results like `load`.
   */
  async compile(fileloc: string): Promise<{ result: SourceFileResult; compiled: CompiledFile }> {
    const inputs = [fileloc, ...this.defaultsPaths(fileloc)];
    const above = (await Promise.all(inputs.slice(1).map((f) => this.readLayer(f, true)))).filter(
      (layer): layer is ParsedLayer => layer !== undefined,
    );
    return this.loadFile(fileloc, above, inputs);
  }

  forget(fileloc: string): void {
    this.kept.delete(fileloc);
    this.layers.delete(fileloc);
  }

  async close(): Promise<void> {
    this.kept.clear();
    this.layers.clear();
  }

  private async loadFile(
    fileloc: string,
    above: ParsedLayer[],
    inputs: string[],
  ): Promise<{ result: SourceFileResult; compiled: CompiledFile }> {
    const own = await this.readLayer(fileloc, false);
    if (own === undefined) {
      const issue: SpecIssue = { file: fileloc, message: 'the file is gone or cannot be read' };
      return {
        result: { fileloc, codeHash: null, dags: [], issues: [issue], inputs },
        compiled: { dags: [], issues: [issue], compiled: [] },
      };
    }
    const key = [own.hash, ...above.map((layer) => layer.hash), this.environment ?? ''].join(':');
    const kept = this.kept.get(fileloc);
    if (
      kept !== undefined &&
      kept.key === key &&
      this.sameEnv(kept.envReads) &&
      inputsUnchanged(kept.loadInputs)
    ) {
      return {
        result: { ...kept.result, inputs: withPaths(inputs, kept.loadInputs) },
        compiled: kept.compiled,
      };
    }
    const envReads: EnvReads = new Map([own, ...above].flatMap((layer) => [...layer.envReads]));
    const compiled = compileFile(
      own.layer,
      above.map((layer) => layer.layer),
      this.environment,
    );
    const codeHash = createHash('sha256')
      .update(key)
      .update(JSON.stringify([...envReads].sort()))
      .digest('hex');
    const issues = [...compiled.issues];
    if (path.basename(fileloc) === 'defaults.yml') {
      issues.push({
        file: fileloc,
        message: 'defaults.yml is read as a pipeline file',
        hint: `name it ${DEFAULTS_FILE} to give defaults to the files of this folder`,
      });
    }
    const loadInputs = loadInputsOf(compiled.dags);
    const result: SourceFileResult = {
      fileloc,
      codeHash,
      dags: compiled.dags,
      issues,
      inputs: withPaths(inputs, loadInputs),
    };
    this.kept.set(fileloc, { key, envReads, loadInputs, result, compiled });
    return { result, compiled };
  }

  /** Whether the environment variables a result read still have the same values. */
  private sameEnv(reads: EnvReads): boolean {
    for (const [name, value] of reads) if (this.env[name] !== value) return false;
    return true;
  }

  /** `defaults.yaml` paths from the pipelines folder down to the folder of `fileloc`. */
  private defaultsPaths(fileloc: string): string[] {
    const folder = path.dirname(fileloc);
    const root = this.root !== undefined && isInside(folder, this.root) ? this.root : folder;
    const folders = [folder];
    for (let dir = folder; dir !== root; ) {
      const parent = path.dirname(dir);
      if (parent === dir) break;
      folders.unshift(parent);
      dir = parent;
    }
    return folders.map((dir) => path.join(dir, DEFAULTS_FILE));
  }

  /** Reads, parses and checks a file; undefined when it does not exist (a defaults file). */
  private async readLayer(file: string, optional: boolean): Promise<ParsedLayer | undefined> {
    let text: string;
    try {
      const info = await stat(file);
      if (info.size > this.limits.maxBytes) {
        return this.remember(file, `size:${info.size}`, {
          parseIssues: [
            {
              file,
              message: `the file is ${info.size} bytes, more than the limit of ${this.limits.maxBytes}`,
              hint: 'split it into several pipeline files',
            },
          ],
        });
      }
      text = await readFile(file, 'utf8');
    } catch (error) {
      if (optional && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      if (!optional) return undefined;
      return this.remember(file, `error:${(error as Error).message}`, {
        parseIssues: [{ file, message: `cannot read the file: ${(error as Error).message}` }],
      });
    }
    const hash = createHash('sha256').update(text).digest('hex');
    const known = this.layers.get(file);
    if (known?.hash === hash && this.sameEnv(known.envReads)) return known;
    this.parsedCount++;
    const parsed = parseYaml(text, file, { env: this.env, limits: this.limits });
    const value = isYamlMap(parsed.value) ? parsed.value : {};
    const parseIssues = [...parsed.issues];
    if (parsed.issues.length === 0 && parsed.value !== null && !isYamlMap(parsed.value)) {
      parseIssues.push({
        file,
        line: 1,
        column: 1,
        message: 'a pipeline file must be a map (with dags:, templates:, defaults:)',
        hint: 'see docs/yaml.md for the format',
      });
    }
    const schemaIssues = parseIssues.length === 0 ? checkSchema(value, file) : [];
    const layer: ParsedLayer = {
      hash,
      envReads: parsed.envReads,
      layer: { file, value, parseIssues, schemaIssues },
    };
    this.layers.set(file, layer);
    return layer;
  }

  private remember(
    file: string,
    what: string,
    issues: Pick<YamlLayer, 'parseIssues'>,
  ): ParsedLayer {
    return {
      hash: createHash('sha256').update(file).update(what).digest('hex'),
      envReads: new Map(),
      layer: { file, value: {}, parseIssues: issues.parseIssues, schemaIssues: [] },
    };
  }
}

/** `inputs` and the paths of `loadInputs`. */
function withPaths(inputs: readonly string[], loadInputs: readonly LoadInput[]): string[] {
  return [...inputs, ...loadInputs.map((input) => input.path)];
}

function isInside(folder: string, root: string): boolean {
  const relative = path.relative(root, folder);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

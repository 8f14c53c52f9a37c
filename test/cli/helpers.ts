import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'updraft.js');
const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'pipelines');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A scratch folder with a copy of the fixture pipelines and an empty home. */
export interface Workspace {
  root: string;
  home: string;
  pipelines: string;
  /** `--home` and `--pipelines` for this workspace. */
  args: string[];
  remove(): void;
}

export function createWorkspace(): Workspace {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'updraft-cli-'));
  const home = path.join(root, 'home');
  const pipelines = path.join(root, 'pipelines');
  fs.cpSync(FIXTURES, pipelines, { recursive: true });
  return {
    root,
    home,
    pipelines,
    args: ['--home', home, '--pipelines', pipelines],
    remove: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * The CLI's environment: the test's, without Updraft settings that would leak in, and
 * without the example shop's source in a standalone unless a test asks for it.
 */
function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    UPDRAFT_EXAMPLES: 'false',
    ...extra,
  };
  delete env.UPDRAFT_HOME;
  delete env.UPDRAFT_PIPELINES;
  delete env.UPDRAFT_DATABASE_URL;
  delete env.FORCE_COLOR;
  return env;
}

/** Runs the real CLI (`node bin/updraft.js ...`) to its end, with `input` on its standard input. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(env), cwd: ROOT });
  if (input !== undefined) child.stdin.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A long-running CLI process (`standalone`, `scheduler`). */
export interface Background {
  child: ChildProcess;
  output(): string;
  /** Resolves when the output matches `pattern`; rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<void>;
  /** Sends a signal and resolves to the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startCli(args: string[], env: Record<string, string> = {}): Background {
  const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(env), cwd: ROOT });
  let output = '';
  const waiters: { pattern: RegExp; resolve(): void }[] = [];
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const w of [...waiters]) {
      if (w.pattern.test(output)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  return {
    child,
    output: () => output,
    waitFor(pattern) {
      if (pattern.test(output)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void exited.then((code) =>
          reject(new Error(`updraft exited (${code}) before printing ${pattern}:\n${output}`)),
        );
      });
    },
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

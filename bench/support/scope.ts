/**
 * Clean-up for benchmarks: every temp folder, child process, runtime and database a
 * benchmark creates is registered on a `Scope` and released in reverse order when the
 * benchmark ends — normally, by an error, or by Ctrl-C / SIGTERM.
 */

interface Step {
  what: string;
  run: () => Promise<void> | void;
}

const open = new Set<Scope>();
let signalsInstalled = false;

/** Releases, in reverse order, what a benchmark acquired. */
export class Scope {
  private readonly steps: Step[] = [];

  /** Registers `run` to be called when the scope closes (last registered, first run). */
  defer(what: string, run: () => Promise<void> | void): void {
    this.steps.push({ what, run });
  }

  /** Runs every registered step; a failing step is reported and the others still run. */
  async close(): Promise<void> {
    open.delete(this);
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.run();
      } catch (error) {
        process.stderr.write(`[bench] clean-up failed (${step.what}): ${String(error)}\n`);
      }
    }
  }
}

/** Runs `fn` with a fresh scope that is closed afterwards, even when `fn` throws. */
export async function withScope<T>(fn: (scope: Scope) => Promise<T>): Promise<T> {
  installSignalHandlers();
  const scope = new Scope();
  open.add(scope);
  try {
    return await fn(scope);
  } finally {
    await scope.close();
  }
}

function installSignalHandlers(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n[bench] ${signal}: cleaning up…\n`);
      const closing = [...open].map((scope) => scope.close());
      void Promise.allSettled(closing).then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}

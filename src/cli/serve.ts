/**
 * `updraft standalone` and `updraft scheduler`: the long-running process.
 *
 * Start: take the store lock (embedded store), start the runtime (migrate, load the
 * pipelines, executor, scheduler), serve the control socket (embedded store: `Operations`,
 * dataset, connection and quality operations; `socket-services.ts`) and the
 * HTTP server (standalone, or scheduler with `--port`), then print what was done.
 * Stop (Ctrl-C / SIGTERM): stop accepting HTTP and socket requests, stop the runtime,
 * remove the socket, release the lock. A second Ctrl-C exits at once. Starting again
 * resumes: the scheduler picks up the runs it left.
 */
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { UpdraftError } from '../core/errors.ts';
import type { ExampleSource } from '../examples/example-source.ts';
import { componentLogOptions } from '../observability/logger.ts';
import type { CliSettings } from './context.ts';
import { formatLogLine } from './log-format.ts';
import { colourEnabled, humanDuration, painter, say } from './output.ts';
import { updraftVersion } from './version.ts';

export interface ServeOptions {
  /** `standalone`, `scheduler` or `webserver` (HTTP only: no scheduler, no executor). */
  mode: 'standalone' | 'scheduler' | 'webserver';
  /** HTTP port, or null for no HTTP server. */
  port: number | null;
  /** Interface the HTTP server binds. */
  host: string;
  /** Worker processes (default: the runtime's, the number of cores). */
  workers?: number;
  /** `local` or `queue` (default `UPDRAFT_EXECUTOR`, else local). */
  executor?: 'local' | 'queue' | undefined;
  /** The command line, recorded in the lock file. */
  command: string;
}

/** Runs until SIGINT or SIGTERM, then shuts down cleanly. */
export async function serve(settings: CliSettings, options: ServeOptions): Promise<void> {
  const version = updraftVersion();
  const paint = painter();
  const embedded = !settings.databaseUrl;
  const logFile = path.join(settings.home, 'logs', 'updraft.log');
  const cleanups: { what: string; run: () => Promise<void> | void }[] = [];
  const shutdown = async (log: Logger | null) => {
    for (const step of cleanups.reverse()) {
      try {
        await step.run();
      } catch (error) {
        log?.error({ err: error }, `stopping: ${step.what} failed`);
      }
    }
    cleanups.length = 0;
  };

  const { acquireLock } = await import('../control/lock.ts');
  if (embedded) {
    const lock = acquireLock(settings.home, { purpose: 'server', command: options.command });
    cleanups.push({ what: 'release the store lock', run: () => lock.release() });
  }
  const log = processLogger(logFile);
  const stopSignal = waitForStopSignal(paint);
  try {
    const examples = options.mode === 'standalone' ? await startExamples(settings.home, log) : null;
    if (examples?.kind === 'embedded') {
      cleanups.push({ what: 'stop the example source', run: () => examples.stop() });
    }
    const { startRuntime } = await import('../runtime.ts');
    const runtime = await startRuntime({
      home: settings.home,
      pipelinesDir: settings.pipelinesDir,
      databaseUrl: settings.databaseUrl,
      workers: options.workers,
      executor: options.executor,
      log,
      scheduler: options.mode !== 'webserver',
    });
    cleanups.push({ what: 'stop the runtime', run: () => runtime.stop() });

    let socket: string | null = null;
    if (embedded) {
      const { startControlServer } = await import('../control/server.ts');
      const { socketPath } = await import('../control/protocol.ts');
      const { socketServices } = await import('../control/socket-services.ts');
      const { createAuth } = await import('../auth/auth.ts');
      const { systemClock } = await import('../core/clock.ts');
      const { createDatasetOperations } = await import('../data/dataset-operations.ts');
      const { createQualityOperations } = await import('../quality/quality-operations.ts');
      const services = socketServices(
        {
          ops: runtime.ops,
          datasets: createDatasetOperations(runtime.store, settings.home),
          quality: createQualityOperations(runtime.store, settings.home),
        },
        createAuth(runtime.store, systemClock).audit,
      );
      const control = await startControlServer({
        socketPath: socketPath(settings.home),
        ...services,
        version,
        log,
      });
      socket = control.socketPath;
      cleanups.push({ what: 'close the control socket', run: () => control.close() });
    }

    let url: string | null = null;
    let login: string | null = null;
    if (options.port !== null) {
      const { startHttpServer } = await import('../server/app.ts');
      const { healthSource } = await import('../server/health-source.ts');
      const { webAccess } = await import('../server/web-access.ts');
      const web = await webAccess(runtime, settings.home, version);
      login = web.login;
      const http = await startHttpServer({
        port: options.port,
        host: options.host,
        version,
        log,
        health: healthSource(runtime.store, runtime.scheduler, runtime.executorStatus),
        metrics: runtime.metrics,
        api: web.api,
        trustProxy: process.env.UPDRAFT_TRUST_PROXY === 'true',
      }).catch((error: unknown) => {
        throw portError(error, options.port ?? 0);
      });
      url = http.url;
      cleanups.push({ what: 'close the HTTP server', run: () => http.close() });
    }

    const [dags, importErrors] = await Promise.all([
      runtime.ops.listDags(),
      runtime.ops.listImportErrors(),
    ]);
    const rows: [string, string][] = [
      ['home', settings.home],
      ['store', runtime.homeInfo.databaseLabel],
      [
        'pipelines',
        `${settings.pipelinesDir}: ${dags.filter((d) => d.isActive).length} DAGs` +
          (importErrors.length === 0
            ? ''
            : `, ${paint('yellow', `${importErrors.length} file(s) with errors`)} (updraft dags import-errors)`),
      ],
      ['workers', String(runtime.workers)],
      ['web', url ? `${url}  (health: ${url}/health)` : paint('dim', 'off (use --port N)')],
      ...(login ? [['login', paint('yellow', login)] as [string, string]] : []),
      [
        'control',
        socket ?? paint('dim', 'off (PostgreSQL store: CLI commands connect to it directly)'),
      ],
      ...(examples === null ? [] : [['examples', describeExamples(examples)] as [string, string]]),
      ['task logs', runtime.homeInfo.logsDir],
      ['own log', logFile],
    ];
    say(`${paint('bold', `Updraft ${version}`)} ${options.mode} ${paint('green', 'running')}`);
    for (const [key, value] of rows) say(`  ${paint('dim', key.padEnd(10))} ${value}`);
    say(paint('dim', 'Press Ctrl-C to stop.'));

    const signal = await stopSignal;
    say(`${signal}: stopping ${paint('dim', '(Ctrl-C again to force)')}`);
  } finally {
    await shutdown(log);
    log.flush();
  }
  say('stopped');
}

/**
 * The example shop's source for a standalone (src/examples/example-source.ts): served,
 * and seeded on the first start with progress. Off with `UPDRAFT_EXAMPLES=false`.
 */
async function startExamples(home: string, log: Logger): Promise<ExampleSource | null> {
  const setting = process.env.UPDRAFT_EXAMPLES?.trim().toLowerCase() ?? 'true';
  if (setting === 'false') return null;
  if (setting !== 'true') {
    throw new UpdraftError(
      'config_invalid',
      `UPDRAFT_EXAMPLES must be 'true' or 'false'; got '${process.env.UPDRAFT_EXAMPLES}'`,
    );
  }
  const { startExampleSource } = await import('../examples/example-source.ts');
  const { progressPrinter } = await import('./commands/examples.ts');
  return startExampleSource(home, {
    log: { warn: (message) => log.warn(message), error: (message) => log.error(message) },
    onSeedStart: (scale) =>
      say(`seeding the example shop (scale ${scale}) into the embedded source`),
    seed: { onProgress: progressPrinter(process.stdout) },
  });
}

function describeExamples(examples: ExampleSource): string {
  if (examples.kind === 'user') return `shop_source as defined in ${examples.definedIn}`;
  const seeded =
    examples.seeded === null
      ? ''
      : `, seeded ${examples.seeded.tables.reduce((sum, t) => sum + t.rows, 0)} rows in ${humanDuration(examples.seeded.milliseconds)}`;
  return `shop_source = embedded PGlite ${examples.dir}${seeded}`;
}

/** JSON lines to `file`; on stderr the same records pretty on a terminal, JSON otherwise. */
function processLogger(file: string): Logger {
  const level = process.env.UPDRAFT_LOG_LEVEL ?? 'info';
  const pretty = colourEnabled(process.stderr);
  const paint = painter(process.stderr);
  const terminal = pretty
    ? { write: (line: string) => process.stderr.write(`${formatLogLine(line.trimEnd(), paint)}\n`) }
    : pino.destination(2);
  return pino(
    componentLogOptions(level),
    pino.multistream([
      {
        level: level as pino.Level,
        stream: pino.destination({ dest: file, mkdir: true, sync: false }),
      },
      { level: level as pino.Level, stream: terminal },
    ]),
  );
}

/** Resolves on the first SIGINT/SIGTERM; a second one exits at once. */
export function waitForStopSignal(paint: ReturnType<typeof painter>): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const first = (signal: NodeJS.Signals) => {
      process.off('SIGINT', first);
      process.off('SIGTERM', first);
      const force = () => {
        process.stderr.write(`${paint('red', 'forced exit')}\n`);
        process.exit(130);
      };
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      resolve(signal);
    };
    process.on('SIGINT', first);
    process.on('SIGTERM', first);
  });
}

function portError(error: unknown, port: number): unknown {
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    return new UpdraftError(
      'port_in_use',
      `port ${port} is already in use: stop what uses it or choose another with --port`,
      { cause: error },
    );
  }
  return error;
}

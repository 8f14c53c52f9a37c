/**
 * `GET /health`: is this process serving, is its scheduler running, does its store
 * answer. Open to everyone (no authentication), for load balancers and probes.
 *
 * 200 `{ status: 'ok', version, scheduler: { running, lastHeartbeat }, executor, store }`
 * (`executor`: `{ name, slots, inFlight }`, null in a process without one);
 * 503 with `status: 'unavailable'` and `error` when the store does not answer within
 * `storeTimeoutMs`.
 */
import type { FastifyPluginAsync } from 'fastify';

/** Where the health route gets its facts. */
export interface HealthSource {
  /** Kind of metadata store. */
  store: 'pglite' | 'postgres';
  /** Resolves when the store answers a trivial query; rejects otherwise. */
  pingStore(): Promise<void>;
  /** Whether the scheduler loop runs in this process, and its last heartbeat (ISO). */
  scheduler(): { running: boolean; lastHeartbeat: string | null };
  /** The executor's slots and attempts in flight, or null without one. */
  executor?(): ExecutorSlots | null;
}

/** An executor's capacity as `/health` reports it. */
export interface ExecutorSlots {
  name: string;
  slots: number;
  inFlight: number;
}

export interface HealthRouteOptions {
  /** Updraft version reported. */
  version: string;
  source: HealthSource;
  /** How long the store may take to answer (default 2000 ms). */
  storeTimeoutMs?: number;
}

/** The body of `GET /health`. */
export interface HealthReport {
  status: 'ok' | 'unavailable';
  version: string;
  scheduler: { running: boolean; lastHeartbeat: string | null };
  executor: ExecutorSlots | null;
  store: 'pglite' | 'postgres';
  /** Why the status is `unavailable`. */
  error?: string;
}

const reportSchema = {
  type: 'object',
  required: ['status', 'version', 'scheduler', 'store'],
  properties: {
    status: { type: 'string', enum: ['ok', 'unavailable'] },
    version: { type: 'string' },
    scheduler: {
      type: 'object',
      required: ['running', 'lastHeartbeat'],
      properties: {
        running: { type: 'boolean' },
        lastHeartbeat: { type: ['string', 'null'] },
      },
    },
    executor: {
      type: ['object', 'null'],
      required: ['name', 'slots', 'inFlight'],
      properties: {
        name: { type: 'string' },
        slots: { type: 'integer' },
        inFlight: { type: 'integer' },
      },
    },
    store: { type: 'string', enum: ['pglite', 'postgres'] },
    error: { type: 'string' },
  },
} as const;

/** Registers `GET /health`. */
export const healthRoutes: FastifyPluginAsync<HealthRouteOptions> = async (app, options) => {
  const timeoutMs = options.storeTimeoutMs ?? 2000;
  app.get(
    '/health',
    { schema: { response: { 200: reportSchema, 503: reportSchema } } },
    async (_request, reply) => {
      const report: HealthReport = {
        status: 'ok',
        version: options.version,
        scheduler: options.source.scheduler(),
        executor: options.source.executor?.() ?? null,
        store: options.source.store,
      };
      const problem = await storeProblem(options.source, timeoutMs);
      if (problem !== null) {
        report.status = 'unavailable';
        report.error = problem;
        return reply.code(503).send(report);
      }
      return report;
    },
  );
};

/** Null when the store answered in time, else what went wrong. */
async function storeProblem(source: HealthSource, timeoutMs: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`store did not answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([
      source.pingStore().then(
        () => null,
        (error: unknown) =>
          `store error: ${error instanceof Error ? error.message : String(error)}`,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

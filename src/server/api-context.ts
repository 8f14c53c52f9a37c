/**
 * What the REST API needs from its process: the operations, the store (for the read
 * models the UI needs beyond `Operations`: the grid, live state changes, deadline
 * misses), auth, the version.
 */
import type { Auth } from '../auth/auth.ts';
import type { Capability } from '../auth/roles.ts';
import type { Principal } from '../auth/sessions.ts';
import type { DatasetOperations } from '../data/dataset-operations.ts';
import type { Operations } from '../ops/operations.ts';
import type { QualityOperations } from '../quality/quality-operations.ts';
import type { Store } from '../store/store.ts';

export interface ApiContext {
  ops: Operations;
  store: Store;
  auth: Auth;
  /** The data layer; without it the dataset routes are not served. */
  datasets?: DatasetOperations;
  /** Quality results and metric histories; without it the quality routes are not served. */
  quality?: QualityOperations;
  version: string;
  /** How often live-state streams look for changes (default 1000 ms). */
  livePollMs?: number;
}

/** Per-route settings read by the auth and audit hooks. */
export interface RouteAccess {
  /** What the caller must be allowed; `public` only for health and login. */
  capability?: Capability | 'public';
  /** Audit action name (e.g. `dag.pause`); set on every route that changes something. */
  audit?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig extends RouteAccess {}
  interface FastifyRequest {
    /** Who is calling; null before authentication and on public routes. */
    principal: Principal | null;
    /** Set by a handler to refine what the audit log records. */
    auditNote: { target?: string; details?: Record<string, unknown>; username?: string } | null;
  }
}

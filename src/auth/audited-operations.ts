/**
 * `Operations` that write an audit record for every change they are asked to make, for
 * callers the REST API's audit hook does not see: CLI commands reaching a running
 * server through its control socket. The socket is owner-only (mode 0600), so the
 * caller is the operating-system user who owns the store; records say `via: cli`, with
 * that user and `control socket` as where it came from. Reads pass through unrecorded;
 * user changes are recorded by `UserAdmin` itself.
 */
import os from 'node:os';
import { UpdraftError } from '../core/errors.ts';
import type { Operations } from '../ops/operations.ts';
import type { AuditLog } from './audit-log.ts';

/** The changes, with the audit action each is recorded as and how to name its target. */
const CHANGES: {
  [K in keyof Operations]?: { action: string; target: (args: unknown[]) => string };
} = {
  setPaused: { action: 'dag.pause', target: ([dagId]) => String(dagId) },
  triggerRun: { action: 'dag.trigger', target: ([dagId]) => String(dagId) },
  markRun: { action: 'run.mark', target: ([dagId, runId]) => `${dagId}/${runId}` },
  clearTasks: { action: 'run.clear', target: ([dagId, runId]) => `${dagId}/${runId}` },
  markTask: {
    action: 'task.mark',
    target: ([dagId, runId, taskId]) => `${dagId}/${runId}/${taskId}`,
  },
  createBackfill: { action: 'backfill.create', target: ([dagId]) => String(dagId) },
  cancelBackfill: { action: 'backfill.cancel', target: ([id]) => `backfill ${id}` },
  setPool: { action: 'pool.set', target: ([name]) => String(name) },
};

/** Wraps `ops` so each change is audited with its outcome (`ok` or the error code). */
export function auditedOperations(ops: Operations, audit: AuditLog): Operations {
  const osUser = (() => {
    try {
      return os.userInfo().username;
    } catch {
      return null;
    }
  })();
  return new Proxy(ops, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      const change =
        typeof property === 'string' ? CHANGES[property as keyof Operations] : undefined;
      if (!change || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        let outcome = 'ok';
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (error) {
          outcome = error instanceof UpdraftError ? error.code : 'error';
          throw error;
        } finally {
          await audit.record({
            username: osUser,
            via: 'cli',
            action: change.action,
            target: change.target(args),
            details: { args: args.slice(1) },
            ip: 'control socket',
            userAgent: null,
            outcome,
          });
        }
      };
    },
  });
}

/**
 * Operations that write an audit record for every change they are asked to make, for
 * callers the REST API's audit hook does not see: CLI commands reaching a running
 * server through its control socket (`Operations`, `DatasetOperations`,
 * `QualityOperations`). The socket is owner-only (mode 0600), so the caller is the
 * operating-system user who owns the store; records say `via: cli`, with that user and
 * `control socket` as where it came from. Reads pass through unrecorded; user changes
 * are recorded by `UserAdmin` itself.
 *
 * Each interface has a table over all its methods (`ChangeTable`): a change names its
 * audit action (the REST API's, where it has one), its target and the details kept —
 * never a secret (a connection's URL is not recorded) — and a read is `null`, so a new
 * method does not compile until it is classified.
 */
import { UpdraftError } from '../core/errors.ts';
import { type MethodTable, wrapMethods } from '../core/wrap-methods.ts';
import type { DatasetOperations } from '../data/dataset-operations.ts';
import type { AliasPolicy } from '../data/promotion-policy.ts';
import type { VacuumOptions } from '../data/vacuum.ts';
import type { Operations } from '../ops/operations.ts';
import type { QualityOperations } from '../quality/quality-operations.ts';
import type { ReplayRequest } from '../quality/quarantine-replay.ts';
import type { AuditLog } from './audit-log.ts';
import { localUserName } from './local-actor.ts';

/** How one change is recorded. */
export interface AuditedChange {
  /** The audit action (`dataset.promote`). */
  action: string;
  /** What it changed, from its arguments. */
  target: (args: unknown[]) => string;
  /** The details kept from its arguments (default: every argument after the first). */
  details?: (args: unknown[]) => Record<string, unknown>;
}

/** Every method of `T`: how a change is recorded, or `null` for a read. */
export type ChangeTable<T> = MethodTable<T, AuditedChange>;

const OPERATION_CHANGES: ChangeTable<Operations> = {
  listDags: null,
  getDag: null,
  listImportErrors: null,
  setPaused: { action: 'dag.pause', target: ([dagId]) => String(dagId) },
  triggerRun: { action: 'dag.trigger', target: ([dagId]) => String(dagId) },
  listRuns: null,
  getRun: null,
  markRun: { action: 'run.mark', target: ([dagId, runId]) => `${dagId}/${runId}` },
  getTaskInstance: null,
  clearTasks: { action: 'run.clear', target: ([dagId, runId]) => `${dagId}/${runId}` },
  markTask: {
    action: 'task.mark',
    target: ([dagId, runId, taskId]) => `${dagId}/${runId}/${taskId}`,
  },
  taskLogPath: null,
  createBackfill: { action: 'backfill.create', target: ([dagId]) => String(dagId) },
  listBackfills: null,
  cancelBackfill: { action: 'backfill.cancel', target: ([id]) => `backfill ${id}` },
  listPools: null,
  setPool: { action: 'pool.set', target: ([name]) => String(name) },
  nextRuns: null,
  // Recorded by UserAdmin itself.
  listUsers: null,
  createUser: null,
  updateUser: null,
  deleteUser: null,
  health: null,
  operationsReport: null,
};

/** `reason` of a `MoveOptions` argument (the actor is the record's user). */
const reasonOf = (options: unknown) => ({
  reason: (options as { reason?: string | null } | undefined)?.reason ?? null,
});

const DATASET_CHANGES: ChangeTable<DatasetOperations> = {
  listDatasets: null,
  listVersions: null,
  showVersion: null,
  promote: {
    action: 'dataset.promote',
    target: ([dataset]) => String(dataset),
    details: ([, version, alias, options]) => ({ version, alias, ...reasonOf(options) }),
  },
  rollback: {
    action: 'dataset.rollback',
    target: ([dataset]) => String(dataset),
    details: ([, alias, options]) => ({ alias, ...reasonOf(options) }),
  },
  approve: {
    action: 'dataset.approve',
    target: ([dataset]) => String(dataset),
    details: ([, version, alias, options]) => ({ version, alias, ...reasonOf(options) }),
  },
  aliasHistory: null,
  getAliasPolicy: null,
  setAliasPolicy: {
    action: 'dataset.policy',
    target: ([policy]) => {
      const p = policy as Partial<AliasPolicy> | undefined;
      return `${p?.dataset}@${p?.alias}`;
    },
    details: ([policy]) => {
      const { roles, requireChecks, requireApproval } = (policy ?? {}) as Partial<AliasPolicy>;
      return { roles, requireChecks, requireApproval };
    },
  },
  recordBlockingChecks: {
    action: 'dataset.checks',
    target: ([dataset, version]) => `${dataset}@v${version}`,
    details: ([, , passed]) => ({ passed }),
  },
  vacuum: {
    action: 'dataset.vacuum',
    target: ([options]) => (options as VacuumOptions | undefined)?.dataset ?? '*',
    details: ([options]) => ({ ...(options as VacuumOptions | undefined) }),
  },
  compact: {
    action: 'dataset.compact',
    target: ([dataset]) => String(dataset),
    details: ([, version, targetFileBytes]) => ({ version, targetFileBytes }),
  },
  lineage: null,
  etlRuns: null,
  listConnections: null,
  putConnection: {
    action: 'connection.put',
    target: ([input]) => String((input as { name?: unknown } | undefined)?.name),
    // Never the URL: it holds the secret.
    details: ([input]) => ({
      description: (input as { description?: string | null } | undefined)?.description ?? null,
    }),
  },
  deleteConnection: {
    action: 'connection.delete',
    target: ([name]) => String(name),
    details: () => ({}),
  },
  rotateConnectionKey: {
    action: 'connection.rotate_key',
    target: () => 'connections',
    details: () => ({}),
  },
};

const QUALITY_CHANGES: ChangeTable<QualityOperations> = {
  results: null,
  latestResults: null,
  runs: null,
  run: null,
  metricHistory: null,
  metrics: null,
  replay: {
    action: 'quality.replay',
    target: ([request]) => String((request as ReplayRequest | undefined)?.dataset),
    details: ([request]) => {
      const { actor: _actor, dataset: _dataset, ...rest } = (request ?? {}) as ReplayRequest;
      return rest;
    },
  },
};

/** Wraps `ops` so each change in `changes` is audited with its outcome (`ok` or the error code). */
export function audited<T extends object>(ops: T, changes: ChangeTable<T>, audit: AuditLog): T {
  const osUser = localUserName();
  return wrapMethods(ops, changes, async (change, method, args) => {
    let outcome = 'ok';
    try {
      return await method(...args);
    } catch (error) {
      outcome = error instanceof UpdraftError ? error.code : 'error';
      throw error;
    } finally {
      await audit.record({
        username: osUser,
        via: 'cli',
        action: change.action,
        target: change.target(args),
        details: change.details ? change.details(args) : { args: args.slice(1) },
        ip: 'control socket',
        userAgent: null,
        outcome,
      });
    }
  });
}

/** `Operations` with each change audited; see the module doc. */
export function auditedOperations(ops: Operations, audit: AuditLog): Operations {
  return audited(ops, OPERATION_CHANGES, audit);
}

/** `DatasetOperations` (connections included) with each change audited. */
export function auditedDatasetOperations(
  ops: DatasetOperations,
  audit: AuditLog,
): DatasetOperations {
  return audited(ops, DATASET_CHANGES, audit);
}

/** `QualityOperations` with each change (a replay, dry runs too) audited. */
export function auditedQualityOperations(
  ops: QualityOperations,
  audit: AuditLog,
): QualityOperations {
  return audited(ops, QUALITY_CHANGES, audit);
}

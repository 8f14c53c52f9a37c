/**
 * What a long-running process serves on its control socket (ADR 5, ADR 19): its
 * `Operations`, and the dataset (connections included) and quality operations over its
 * store, each change audited (`src/auth/audited-operations.ts`).
 *
 * The socket is owner-only (mode 0600), so every caller is the operating-system user
 * who owns the store, acting with the admin role — as a CLI command on the store itself
 * does. The server says so itself: whatever actor a request carries, the methods that
 * take one get the local actor of this process (`ACTOR_SLOTS`), so alias moves,
 * approvals, connections and replays record the socket's owner and nobody else.
 */

import type { AuditLog } from '../auth/audit-log.ts';
import {
  auditedDatasetOperations,
  auditedOperations,
  auditedQualityOperations,
} from '../auth/audited-operations.ts';
import { localActor } from '../auth/local-actor.ts';
import { type MethodTable, wrapMethods } from '../core/wrap-methods.ts';
import type { DatasetOperations, MoveOptions } from '../data/dataset-operations.ts';
import type { Actor } from '../data/promotion-policy.ts';
import type { QualityOperations } from '../quality/quality-operations.ts';
import type { ReplayRequest } from '../quality/quarantine-replay.ts';
import type { ControlServices } from './protocol.ts';

/** Puts the actor into a method's arguments. */
type ActorSlot = (args: unknown[], actor: Actor) => unknown[];

/** Every method of `T`: where its actor goes, or `null` when it takes none. */
type ActorSlots<T> = MethodTable<T, ActorSlot>;

/** The actor as argument `index`. */
const actorAt =
  (index: number): ActorSlot =>
  (args, actor) =>
    withArg(args, index, actor);

/** The actor in the `MoveOptions` at argument `index`. */
const moveOptionsAt =
  (index: number): ActorSlot =>
  (args, actor) =>
    withArg(args, index, { ...(args[index] as Partial<MoveOptions> | undefined), actor });

function withArg(args: unknown[], index: number, value: unknown): unknown[] {
  const copy = [...args];
  copy[index] = value;
  return copy;
}

const DATASET_ACTOR_SLOTS: ActorSlots<DatasetOperations> = {
  listDatasets: null,
  listVersions: null,
  showVersion: null,
  promote: moveOptionsAt(3),
  rollback: moveOptionsAt(2),
  approve: moveOptionsAt(3),
  aliasHistory: null,
  getAliasPolicy: null,
  setAliasPolicy: actorAt(1),
  recordBlockingChecks: null,
  vacuum: null,
  compact: null,
  lineage: null,
  etlRuns: null,
  listConnections: null,
  putConnection: actorAt(1),
  deleteConnection: actorAt(1),
  rotateConnectionKey: actorAt(0),
};

const QUALITY_ACTOR_SLOTS: ActorSlots<QualityOperations> = {
  results: null,
  latestResults: null,
  runs: null,
  run: null,
  metricHistory: null,
  metrics: null,
  replay: (args, actor) =>
    withArg(args, 0, { ...(args[0] as ReplayRequest | undefined), actor: actor.name }),
};

/** Wraps `ops` so the methods in `slots` act as `actor`, whatever actor they were given. */
function actingAs<T extends object>(ops: T, slots: ActorSlots<T>, actor: Actor): T {
  return wrapMethods(ops, slots, (slot, method, args) => method(...slot(args, actor)));
}

/**
 * The services of a control socket: `services`' changes audited in `audit`, and the
 * dataset and quality operations acting as the local actor of this process.
 */
export function socketServices(
  services: ControlServices,
  audit: AuditLog,
  actor: Actor = localActor(),
): ControlServices {
  return {
    ops: auditedOperations(services.ops, audit),
    datasets: auditedDatasetOperations(
      actingAs(services.datasets, DATASET_ACTOR_SLOTS, actor),
      audit,
    ),
    quality: auditedQualityOperations(
      actingAs(services.quality, QUALITY_ACTOR_SLOTS, actor),
      audit,
    ),
  };
}

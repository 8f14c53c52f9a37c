/**
 * The `updraft` package: what pipeline files import.
 *
 *     import { dag, TaskFailure } from 'updraft';
 *
 * The loader resolves this import to this very module for the pipelines it bundles, so
 * pipeline code and the worker running it share one copy of it.
 */
export { dag, isDag } from './authoring/dag.ts';
export type {
  BranchOptions,
  Dag,
  DagBuilder,
  DagOptions,
  Dependable,
  DependencyNode,
  GroupOptions,
  MapOverOptions,
  OperatorConfig,
  ShellTaskConfig,
  TaskDefaults,
  TaskGroup,
  TaskOptions,
  TaskRef,
  TaskScope,
  Upstream,
} from './authoring/types.ts';
export type { BranchSpec, DagSpec, Json, JsonSchema, MapOver, TaskSpec } from './core/dag-spec.ts';
export type { Duration } from './core/duration.ts';
export type { SpecIssue } from './core/errors.ts';
export { SkipTask, TaskFailure } from './core/errors.ts';
export type {
  ConnectionInfo,
  TaskContext,
  TaskEffect,
  TaskFunction,
  TaskLogger,
} from './core/task-context.ts';
export type {
  DatasetBatchOptions,
  DatasetEngineOptions,
  DatasetInlet,
  DatasetReadOptions,
  DatasetRow,
  DatasetRowsInput,
  DatasetValue,
  DatasetWriteOptions,
  TaskDatasets,
  WrittenVersion,
} from './core/task-datasets.ts';
export type { TriggerRule } from './core/trigger-rules.ts';
export type { WeightRule } from './loader/dag-graph.ts';
export { traceStep } from './observability/tracing.ts';

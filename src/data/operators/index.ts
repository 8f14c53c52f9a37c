/**
 * The data layer's operators, registered by `src/operators/registry.ts`. None of these
 * modules loads DuckDB, `pg` or `pg-copy-streams` at import time: the registry is
 * imported by the loader and the scheduler, which must stay light.
 */
import type { Operator } from '../../operators/operator.ts';
import { duckdbOperator } from './duckdb-operator.ts';
import { extractOperator, snapshotOperator } from './extract-operator.ts';
import { httpOperator } from './http-operator.ts';
import { loadOperator } from './load-operator.ts';
import { maintainOperator } from './maintain-operator.ts';
import { promoteOperator } from './promote-operator.ts';
import { sqlOperator } from './sql-operator.ts';

export const dataOperators = [
  sqlOperator,
  extractOperator,
  snapshotOperator,
  duckdbOperator,
  loadOperator,
  httpOperator,
  promoteOperator,
  maintainOperator,
] as Operator[];

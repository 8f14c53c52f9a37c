/**
 * Dataset names and references, checked where the data layer takes them (operator
 * configs, effects, the CLI). The rules themselves are in `src/core/dataset-ref.ts`,
 * shared with the loader.
 */
import {
  aliasNameProblem,
  type DatasetRef,
  datasetNameProblem,
  parseDatasetRef,
} from '../core/dataset-ref.ts';
import { UpdraftError } from '../core/errors.ts';

/** Throws `UpdraftError` (`dataset_name_invalid`) naming the rule when `name` is not valid. */
export function assertDatasetName(name: string): void {
  const problem = datasetNameProblem(name);
  if (problem !== null) throw new UpdraftError('dataset_name_invalid', problem);
}

/** Parses a reference (`name`, `name@alias`, `name@v3`); throws `UpdraftError` when invalid. */
export function parseRef(text: string): DatasetRef {
  try {
    return parseDatasetRef(text);
  } catch (error) {
    throw new UpdraftError('dataset_ref_invalid', (error as Error).message);
  }
}

/** Throws `UpdraftError` (`dataset_alias_invalid`) naming the rule when `alias` is not valid. */
export function assertAliasName(alias: string): void {
  const problem = aliasNameProblem(alias);
  if (problem !== null) throw new UpdraftError('dataset_alias_invalid', problem);
}

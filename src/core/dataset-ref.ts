/**
 * Dataset names and references, as pipelines write them in `inlets`, `outlets` and
 * `schedule: { datasets }`, and as the data layer stores them. A name becomes a folder
 * name in dataset storage, so it may hold no path characters.
 *
 * - name: letters, digits, `_`, `-` and `.`, starting with a letter, digit or `_`,
 *   no `..`, at most 200 characters (`orders`, `shop.customer_features`).
 * - reference: `name` (alias `latest`), `name@<alias>` (`orders@prod`) or
 *   `name@v<N>` (`orders@v12`, version 12).
 * - inlet: a reference, optionally followed by `?` (`orders?`, `orders@prod?`): an
 *   optional inlet, which resolves to no version when the dataset has none yet (or the
 *   alias points nowhere) instead of failing the task.
 */

/** Longest dataset name. */
export const MAX_DATASET_NAME_LENGTH = 200;

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** The rule of alias names, as a JSON Schema `pattern` (operator configs use it). */
export const ALIAS_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_-]{0,63}$';
const ALIAS = new RegExp(ALIAS_NAME_PATTERN);
const VERSION = /^v([1-9][0-9]{0,15})$/;

/** What the naming rules are, for error messages. */
export const DATASET_NAME_RULE = `letters, digits, '_', '-' and '.', starting with a letter, digit or '_', no '..', at most ${MAX_DATASET_NAME_LENGTH} characters`;

/** A parsed dataset reference: the dataset and which of its versions. */
export type DatasetRef =
  | { name: string; alias: string; version?: undefined }
  | { name: string; version: number; alias?: undefined };

/** Why `name` is not a valid dataset name, or null when it is. */
export function datasetNameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return `a dataset name must be a string, got ${typeof name}`;
  if (name.length > MAX_DATASET_NAME_LENGTH || !NAME.test(name) || name.includes('..')) {
    return `'${name}' is not a valid dataset name: use ${DATASET_NAME_RULE}`;
  }
  return null;
}

/** Why `alias` is not a valid alias name (`prod`, `staging`), or null when it is. */
export function aliasNameProblem(alias: string): string | null {
  return ALIAS.test(alias)
    ? null
    : `'${alias}' is not a valid alias: use letters, digits, '_' and '-', starting with a letter or '_', at most 64 characters`;
}

/** An inlet as written, split into its reference and whether it ends in `?` (optional). */
export function splitInlet(inlet: string): { ref: string; optional: boolean } {
  return inlet.endsWith('?')
    ? { ref: inlet.slice(0, -1), optional: true }
    : { ref: inlet, optional: false };
}

/** Parses `name`, `name@alias` or `name@v<N>`; throws with the rule when it is not one. */
export function parseDatasetRef(text: string): DatasetRef {
  const at = text.indexOf('@');
  const name = at === -1 ? text : text.slice(0, at);
  const problem = datasetNameProblem(name);
  if (problem !== null) throw new Error(problem);
  if (at === -1) return { name, alias: 'latest' };
  const selector = text.slice(at + 1);
  const version = VERSION.exec(selector);
  if (version?.[1] !== undefined) return { name, version: Number(version[1]) };
  if (!ALIAS.test(selector)) {
    throw new Error(
      `'${text}' is not a valid dataset reference: after '@' comes an alias (letters, digits, '_', '-') or a version such as v3`,
    );
  }
  return { name, alias: selector };
}

/**
 * Connection names, as tasks declare them (`connections: ['warehouse']`) and as the
 * data layer stores them: letters, digits, `_`, `-` and `.`, starting with a letter,
 * digit or `_`, at most 100 characters. In the environment a name is
 * `UPDRAFT_CONN_<NAME>`, upper-cased, with `-` and `.` as `_`.
 */

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;

/** What the naming rule is, for error messages. */
export const CONNECTION_NAME_RULE =
  "letters, digits, '_', '-' and '.', starting with a letter, digit or '_', at most 100 characters";

/** Why `name` is not a valid connection name, or null when it is. */
export function connectionNameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return `a connection name must be a string, got ${typeof name}`;
  return NAME.test(name)
    ? null
    : `'${name}' is not a valid connection name: use ${CONNECTION_NAME_RULE}`;
}

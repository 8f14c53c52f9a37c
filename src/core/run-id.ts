/**
 * Run ids name a DAG's runs: `scheduled__<logical date>`, `manual__<time>`,
 * `dataset__<time>`, `triggered__<dag>.<task>__<run id>`, or what a user chose. They
 * appear in URLs, file paths (task logs) and command lines, so they are kept to a safe
 * alphabet.
 */

const RUN_ID = /^[A-Za-z0-9_.:+-]{1,250}$/;

/** Why `runId` cannot name a run, or null when it can. */
export function runIdProblem(runId: string): string | null {
  return RUN_ID.test(runId)
    ? null
    : `run id '${runId}' is invalid: use 1-250 letters, digits and _ . : + -`;
}

/**
 * Entry point of the loader process: the child process in which pipeline code runs while
 * the scheduler process reads DAG specs (user code never runs in the scheduler process).
 * It imports one bundle per request and replies with the DAGs it exports, reviewed by the
 * spec validator. It exits when its parent goes away.
 */
import { DAG_CREATED_HOOK } from '../authoring/dag.ts';
import type { Dag } from '../authoring/types.ts';
import type { SpecIssue } from '../core/errors.ts';
import { importBundle } from './import-pipeline.ts';
import type { ImportRequest, LoaderReply } from './loader-protocol.ts';
import type { SourceDag } from './pipeline-source.ts';
import { reviewDag } from './review-dag.ts';
import { userLocation } from './stack-location.ts';

function send(reply: LoaderReply): void {
  process.send?.(reply);
}

/** DAGs built by `dag()` during the current import, exported or not. */
let created: Dag[] = [];
(globalThis as { [DAG_CREATED_HOOK]?: (dag: Dag) => void })[DAG_CREATED_HOOK] = (dag) => {
  created.push(dag);
};

async function importFile(
  request: ImportRequest,
): Promise<{ dags: SourceDag[]; issues: SpecIssue[] }> {
  const { fileloc } = request;
  created = [];
  let exported: Dag[];
  try {
    exported = await importBundle(request.bundlePath, request.variant);
  } catch (error) {
    const where = userLocation(error instanceof Error ? error.stack : undefined);
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return {
      dags: [],
      issues: [
        {
          file: where?.file ?? fileloc,
          ...(where === undefined ? {} : { line: where.line, column: where.column }),
          message: `importing the pipeline failed: ${message}`,
          hint: 'fix the error in the top-level code of the file (or of a module it imports)',
        },
      ],
    };
  }
  const issues: SpecIssue[] = [];
  const dags: SourceDag[] = [];
  const seen = new Map<string, Dag>();
  for (const dag of exported) {
    const first = seen.get(dag.dagId);
    if (first !== undefined) {
      const firstLine = first.sourceLocation().line;
      issues.push({
        file: fileloc,
        ...dag.sourceLocation(),
        dagId: dag.dagId,
        message: `dag id '${dag.dagId}' is defined twice in this file${firstLine === undefined ? '' : ` (first at line ${firstLine})`}`,
        hint: 'give every DAG a unique id',
      });
      continue;
    }
    seen.set(dag.dagId, dag);
    dags.push(reviewDag(dag, fileloc));
  }
  for (const dag of created) {
    if (exported.includes(dag)) continue;
    issues.push({
      file: fileloc,
      ...dag.sourceLocation(),
      dagId: dag.dagId,
      message: `dag '${dag.dagId}' is built but not exported, so it is not loaded`,
      hint: 'export it: `export default dag(...)`, `export const x = dag(...)`, or an exported array of DAGs',
    });
  }
  created = [];
  return { dags, issues };
}

type Outcome = Awaited<ReturnType<typeof importFile>>;

/**
 * Outcomes by bundle (and variant). ESM evaluates a module once, so a bundle imported
 * again (a file changed back to an earlier version) gets its first outcome, not a
 * partial second one.
 */
const outcomes = new Map<string, Promise<Outcome>>();

function importOnce(request: ImportRequest): Promise<Outcome> {
  const key = `${request.bundlePath}?${request.variant ?? ''}`;
  let outcome = outcomes.get(key);
  if (outcome === undefined) {
    outcome = importFile(request);
    outcomes.set(key, outcome);
  }
  return outcome;
}

process.on('message', (message: ImportRequest) => {
  if (message?.type !== 'import') return;
  void importOnce(message)
    .catch((error: unknown) => ({
      dags: [],
      issues: [
        {
          file: message.fileloc,
          message: `reading the DAGs of the pipeline failed: ${error instanceof Error ? error.message : String(error)}`,
        },
      ],
    }))
    .then((outcome) => send({ type: 'imported', id: message.id, ...outcome }));
});
process.on('disconnect', () => process.exit(0));
// Pipeline code may fail later, in timers it started; that must not end the process.
process.on('uncaughtException', () => {});
process.on('unhandledRejection', () => {});
send({ type: 'ready' });

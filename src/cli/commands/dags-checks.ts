/**
 * `updraft dags validate`, `dags render` and `dags lint`: checks of pipeline files that
 * need no store and no scheduler (CI, editors, pre-commit hooks).
 *
 * - `validate [paths...] [--json] [--strict] [--env E]`: loads the files (every kind),
 *   reports every problem with file, line, column, document path, message and hint,
 *   plus resource warnings (connections, pools, datasets). Exit 0 when everything is
 *   valid, 1 otherwise; `--strict` also fails on warnings. `--json` prints `Finding[]`.
 * - `render <dag> [--env E] [--json]`: the DAG as resolved (templates, defaults,
 *   environment overrides, load-time expansion) in YAML; `--json` prints
 *   `{ dagId, fileloc, environment, resolved, spec, issues }`.
 * - `lint [paths...] [--config FILE] [--json] [--strict]`: the rules of
 *   `src/loader/checks/lint.ts`, configured in `.updraft-lint.yaml`.
 */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { closestMatch } from '../../core/closest-match.ts';
import { formatSpecIssue, NotFoundError } from '../../core/errors.ts';
import {
  type Finding,
  loadedDags,
  loadFindings,
  loadForChecks,
} from '../../loader/checks/check-pipelines.ts';
import { LINT_RULES, lintDags, readLintConfig } from '../../loader/checks/lint.ts';
import { checkResources } from '../../loader/checks/resources.ts';
import { settingsOf, withOperations } from '../context.ts';
import { EXIT_FAILED } from '../errors.ts';
import { painter, printJson, say } from '../output.ts';

export function registerCheckCommands(dags: Command): void {
  dags
    .command('validate [paths...]')
    .description(
      'check pipeline files (default: the pipelines folder) without a store; exit 1 on any error',
    )
    .option('--json', 'print the findings as a JSON array')
    .option('--strict', 'fail on warnings too (missing connections, pools, datasets)')
    .option('--env <name>', 'environment whose YAML overrides apply (default: UPDRAFT_ENV)')
    .action(
      async (
        paths: string[],
        opts: { json?: boolean; strict?: boolean; env?: string },
        cmd: Command,
      ) => {
        const settings = settingsOf(cmd);
        const files = await loadForChecks({
          pipelinesDir: settings.pipelinesDir,
          home: settings.home,
          paths: paths.length > 0 ? paths : undefined,
          environment: opts.env,
        });
        const findings = [
          ...loadFindings(files),
          ...checkResources(loadedDags(files), { pools: await knownPools(cmd) }),
        ];
        const dagCount = files.reduce((sum, file) => sum + file.result.dags.length, 0);
        finish(findings, opts, `${files.length} file(s), ${dagCount} valid DAG(s)`);
      },
    );

  dags
    .command('render <dag>')
    .description('print a DAG as resolved: templates, defaults and environment overrides applied')
    .option('--env <name>', 'environment whose YAML overrides apply (default: UPDRAFT_ENV)')
    .option('--json', 'print { dagId, fileloc, environment, resolved, spec, issues } as JSON')
    .action(async (dagId: string, opts: { env?: string; json?: boolean }, cmd: Command) => {
      const settings = settingsOf(cmd);
      const environment = opts.env ?? (process.env.UPDRAFT_ENV || undefined);
      const files = await loadForChecks({
        pipelinesDir: settings.pipelinesDir,
        home: settings.home,
        environment,
      });
      const found = findDag(files, dagId);
      if (found.issues.length > 0) process.exitCode = EXIT_FAILED;
      if (opts.json) {
        return printJson({
          dagId,
          fileloc: found.fileloc,
          environment: environment ?? null,
          ...found.body,
        });
      }
      const paint = painter();
      say(
        paint(
          'dim',
          `# dag ${dagId} from ${found.fileloc}${environment ? ` (environment ${environment})` : ''}`,
        ),
      );
      process.stdout.write(stringify(found.body.resolved ?? found.body.spec, { lineWidth: 0 }));
      for (const issue of found.issues) {
        process.stderr.write(`${painter(process.stderr)('red', '✗')} ${formatSpecIssue(issue)}\n`);
      }
    });

  dags
    .command('lint [paths...]')
    .description(
      `check team conventions (rules: ${Object.keys(LINT_RULES).join(', ')}); see docs/yaml.md`,
    )
    .option('--config <file>', 'lint configuration (default: <pipelines>/.updraft-lint.yaml)')
    .option('--json', 'print the findings as a JSON array')
    .option('--strict', 'fail on warnings too')
    .action(
      async (
        paths: string[],
        opts: { config?: string; json?: boolean; strict?: boolean },
        cmd: Command,
      ) => {
        const settings = settingsOf(cmd);
        const config = await readLintConfig(settings.pipelinesDir, opts.config);
        const files = await loadForChecks({
          pipelinesDir: settings.pipelinesDir,
          home: settings.home,
          paths: paths.length > 0 ? paths : undefined,
        });
        const findings = [...loadFindings(files), ...lintDags(loadedDags(files), config)];
        finish(findings, opts, `${files.length} file(s) linted`);
      },
    );
}

/** Prints findings (or JSON) and a summary; sets exit code 1 on errors (or warnings, strict). */
function finish(
  findings: Finding[],
  opts: { json?: boolean; strict?: boolean },
  what: string,
): void {
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.length - errors;
  if (errors > 0 || (opts.strict && warnings > 0)) process.exitCode = EXIT_FAILED;
  if (opts.json) {
    printJson(findings);
    return;
  }
  const paint = painter();
  for (const finding of findings) {
    const mark = finding.severity === 'error' ? paint('red', '✗') : paint('yellow', '!');
    const rule = finding.rule === undefined ? '' : paint('dim', ` [${finding.rule}]`);
    say(`${mark} ${formatSpecIssue(finding)}${rule}`);
  }
  const counts = `${errors} error(s), ${warnings} warning(s)`;
  say(
    errors > 0 || (opts.strict && warnings > 0)
      ? paint('red', `${what}: ${counts}`)
      : paint('green', `${what}: ${counts}`),
  );
}

/** The pools of the store, when a store is reachable without side effects; else undefined. */
async function knownPools(cmd: Command): Promise<Set<string> | undefined> {
  const { home, databaseUrl } = settingsOf(cmd);
  if (!databaseUrl) {
    const { readLock } = await import('../../control/lock.ts');
    const lock = readLock(home);
    if (!(lock?.alive && lock.holder.purpose === 'server')) return undefined;
  }
  return withOperations(cmd, async (ops) => new Set((await ops.listPools()).map((p) => p.name)));
}

/** The DAG `dagId` among the checked files: its resolved YAML (or spec) and issues. */
function findDag(
  files: Awaited<ReturnType<typeof loadForChecks>>,
  dagId: string,
): {
  fileloc: string;
  issues: Finding[];
  body: { resolved: unknown; spec: unknown; issues: Finding[] };
} {
  for (const file of files) {
    const compiled = file.compiled.find((c) => c.dagId === dagId);
    const loaded = file.result.dags.find((d) => d.spec.dagId === dagId);
    if (compiled === undefined && loaded === undefined) continue;
    const issues = file.result.issues
      .filter((issue) => issue.dagId === dagId)
      .map((issue) => ({ ...issue, severity: 'error' as const }));
    return {
      fileloc: file.result.fileloc,
      issues,
      body: {
        resolved: compiled?.resolved ?? null,
        spec: loaded?.spec ?? compiled?.dag?.spec ?? null,
        issues,
      },
    };
  }
  const known = files.flatMap((file) => [
    ...file.result.dags.map((d) => d.spec.dagId),
    ...file.compiled.map((c) => c.dagId),
  ]);
  const match = closestMatch(dagId, known);
  throw new NotFoundError(
    `no pipeline file defines dag '${dagId}'${match === undefined ? '' : `; did you mean '${match}'?`}`,
  );
}

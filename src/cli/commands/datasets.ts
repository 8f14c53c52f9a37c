/**
 * `updraft datasets ...`: list, versions, show, promote, rollback, approve, history,
 * lineage, runs, vacuum, compact, policy. `--json` prints the `DatasetOperations` types
 * of `src/data/dataset-operations.ts` as they are.
 *
 * The CLI acts as the local owner of the store (role admin): whoever can run it can read
 * the store's files anyway. Alias moves record the OS user name and `--reason`. While a
 * standalone holds the embedded store, the commands go through its control socket.
 */
import type { Command } from 'commander';
import { localActor } from '../../auth/local-actor.ts';
import type { DatasetOperations } from '../../data/dataset-operations.ts';
import type { DataOperations } from '../../data/open-data-operations.ts';
import { POLICY_ROLES, type PolicyRole } from '../../data/promotion-policy.ts';
import { commandLine, settingsOf } from '../context.ts';
import { UsageError } from '../errors.ts';
import { isoTime, printJson, printTable, say } from '../output.ts';
import { integerArg } from '../parse.ts';

/**
 * Runs `fn` with the data layer's operations: on the store itself, or over the control
 * socket of the standalone holding it (see `open-data-operations.ts`).
 */
export async function withDataOperations<T>(
  command: Command,
  fn: (ops: DataOperations) => Promise<T>,
): Promise<T> {
  const { home, databaseUrl } = settingsOf(command);
  const { openDataOperations } = await import('../../data/open-data-operations.ts');
  const handle = await openDataOperations({ home, databaseUrl, command: commandLine(command) });
  try {
    return await fn(handle.value);
  } finally {
    await handle.close();
  }
}

/** Runs `fn` with `DatasetOperations` (connections included); see `withDataOperations`. */
export function withDatasetOperations<T>(
  command: Command,
  fn: (ops: DatasetOperations) => Promise<T>,
): Promise<T> {
  return withDataOperations(command, (ops) => fn(ops.datasets));
}

function bytes(n: number | null): string {
  if (n === null) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function registerDatasetCommands(program: Command): void {
  const datasets = program
    .command('datasets')
    .description('versioned dataset snapshots: versions, aliases, promotion, retention, lineage');

  datasets
    .command('list')
    .description('datasets with their latest version and aliases')
    .option('--json', 'print DatasetSummary[] as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withDatasetOperations(cmd, async (ops) => {
        const list = await ops.listDatasets();
        if (opts.json) return printJson(list);
        printTable(
          ['dataset', 'latest', 'versions', 'rows', 'size', 'aliases', 'updated'],
          list.map((d) => [
            d.name,
            d.latestVersion === null ? '-' : `v${d.latestVersion}`,
            String(d.versions),
            d.rows === null ? '-' : String(d.rows),
            bytes(d.bytes),
            Object.entries(d.aliases)
              .map(([alias, v]) => `${alias}→v${v}`)
              .join(' '),
            isoTime(d.updatedAt),
          ]),
          'no datasets yet: they appear when a task first writes one',
        );
      });
    });

  datasets
    .command('versions <dataset>')
    .description('versions of a dataset, newest first')
    .option('--limit <n>', 'most versions shown (default 100)', integerArg(1))
    .option('--json', 'print VersionSummary[] as JSON')
    .action(async (dataset: string, opts: { limit?: number; json?: boolean }, cmd: Command) => {
      await withDatasetOperations(cmd, async (ops) => {
        const list = await ops.listVersions(dataset, { limit: opts.limit ?? 100 });
        if (opts.json) return printJson(list);
        printTable(
          ['version', 'rows', 'size', 'files', 'aliases', 'produced by', 'checks', 'created'],
          list.map((v) => [
            `v${v.version}${v.deletedAt ? ' (vacuumed)' : ''}`,
            String(v.rows),
            bytes(v.bytes),
            String(v.files),
            v.aliases.join(' ') || '-',
            v.producedBy.dagId
              ? `${v.producedBy.dagId}/${v.producedBy.runId}/${v.producedBy.taskId}`
              : '-',
            v.blockingChecksPassed === null ? '-' : v.blockingChecksPassed ? 'passed' : 'FAILED',
            isoTime(v.createdAt),
          ]),
          'no versions',
        );
      });
    });

  datasets
    .command('show <ref>')
    .description('one version (name, name@alias or name@v3) with its manifest')
    .option('--json', 'print VersionDetail as JSON')
    .action(async (ref: string, opts: { json?: boolean }, cmd: Command) => {
      await withDatasetOperations(cmd, async (ops) => {
        const v = await ops.showVersion(ref);
        if (opts.json) return printJson(v);
        const m = v.manifest;
        say(
          `${v.dataset} v${v.version}${v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}${v.deletedAt ? ` — vacuumed ${isoTime(v.deletedAt)}` : ''}`,
        );
        say(`  location   ${v.location}`);
        say(`  rows       ${v.rows} in ${v.files} file(s), ${bytes(v.bytes)}`);
        say(
          `  produced   ${m.producedBy.dagId}/${m.producedBy.runId}/${m.producedBy.taskId} try ${m.producedBy.tryNumber}, ${isoTime(m.createdAt)}`,
        );
        say(`  interval   ${m.dataInterval.start} – ${m.dataInterval.end}`);
        say(
          `  code       git ${m.code.gitCommit ?? '-'}, code ${m.code.codeHash}, dag version ${m.code.dagVersionHash ?? '-'}`,
        );
        say(`  inputs     ${m.inputs.map((i) => `${i.dataset}@v${i.version}`).join(', ') || '-'}`);
        if (m.watermark) say(`  watermark  ${m.watermark.column} = ${m.watermark.value}`);
        say('  schema');
        for (const c of m.schema) say(`    ${c.name}  ${c.type}${c.nullable ? '' : ' not null'}`);
      });
    });

  datasets
    .command('promote <dataset>')
    .argument('<version>', 'version number (3 or v3)', versionArg)
    .requiredOption('--to <alias>', 'alias to move (staging, prod, ...)')
    .option('--reason <text>', 'why, recorded with the move')
    .option('--json', 'print the AliasMove as JSON')
    .description('point an alias at a version, if the promotion policy allows')
    .action(
      async (
        dataset: string,
        version: number,
        opts: { to: string; reason?: string; json?: boolean },
        cmd: Command,
      ) => {
        await withDatasetOperations(cmd, async (ops) => {
          const move = await ops.promote(dataset, version, opts.to, {
            actor: localActor(),
            reason: opts.reason ?? null,
          });
          if (opts.json) return printJson(move);
          say(
            `${dataset}@${opts.to}: ${move.fromVersion === null ? '(new)' : `v${move.fromVersion}`} → v${move.toVersion}`,
          );
        });
      },
    );

  datasets
    .command('rollback <dataset>')
    .requiredOption('--alias <alias>', 'alias to move back')
    .option('--reason <text>', 'why, recorded with the move')
    .option('--json', 'print the AliasMove as JSON')
    .description('move an alias back to the version it pointed at before')
    .action(
      async (
        dataset: string,
        opts: { alias: string; reason?: string; json?: boolean },
        cmd: Command,
      ) => {
        await withDatasetOperations(cmd, async (ops) => {
          const move = await ops.rollback(dataset, opts.alias, {
            actor: localActor(),
            reason: opts.reason ?? null,
          });
          if (opts.json) return printJson(move);
          say(`${dataset}@${opts.alias}: v${move.fromVersion} → v${move.toVersion} (rolled back)`);
        });
      },
    );

  datasets
    .command('approve <dataset>')
    .argument('<version>', 'version number (3 or v3)', versionArg)
    .requiredOption('--for <alias>', 'alias the approval is for')
    .option('--reason <text>', 'recorded with the approval')
    .description('approve a version for promotion to an alias that requires approval')
    .action(
      async (
        dataset: string,
        version: number,
        opts: { for: string; reason?: string },
        cmd: Command,
      ) => {
        await withDatasetOperations(cmd, async (ops) => {
          await ops.approve(dataset, version, opts.for, {
            actor: localActor(),
            reason: opts.reason ?? null,
          });
          say(`approved ${dataset} v${version} for '${opts.for}'`);
        });
      },
    );

  datasets
    .command('history <dataset>')
    .option('--alias <alias>', 'only this alias')
    .option('--json', 'print AliasEvent[] as JSON')
    .description('alias moves: who moved which alias when, and why')
    .action(async (dataset: string, opts: { alias?: string; json?: boolean }, cmd: Command) => {
      await withDatasetOperations(cmd, async (ops) => {
        const events = await ops.aliasHistory(dataset, opts.alias);
        if (opts.json) return printJson(events);
        printTable(
          ['at', 'alias', 'action', 'move', 'by', 'reason'],
          events.map((e) => [
            isoTime(e.at),
            e.alias,
            e.action,
            `${e.fromVersion === null ? '-' : `v${e.fromVersion}`} → v${e.toVersion}`,
            e.actorRole ? `${e.actor} (${e.actorRole})` : e.actor,
            e.reason ?? '-',
          ]),
          'no alias moves',
        );
      });
    });

  datasets
    .command('lineage <dataset>')
    .option('--json', 'print the LineageGraph as JSON')
    .description('what a dataset was made from and what was made from it')
    .action(async (dataset: string, opts: { json?: boolean }, cmd: Command) => {
      await withDatasetOperations(cmd, async (ops) => {
        const graph = await ops.lineage(dataset);
        if (opts.json) return printJson(graph);
        say(`upstream:   ${graph.upstream.join(', ') || '-'}`);
        say(`downstream: ${graph.downstream.join(', ') || '-'}`);
        printTable(
          ['task', 'reads/writes', 'dataset', 'latest version', 'runs'],
          graph.edges.map((e) => [
            `${e.dagId}.${e.taskId}`,
            e.direction,
            e.dataset,
            e.version === null ? '-' : `v${e.version}`,
            String(e.runs),
          ]),
          'no lineage recorded',
        );
      });
    });

  datasets
    .command('runs')
    .option('--dag <dag>', 'only this DAG')
    .option('--limit <n>', 'most runs shown (default 50)', integerArg(1))
    .option('--json', 'print the etl_runs rows as JSON')
    .description('pipeline runs that read or wrote datasets: status, duration, rows, versions')
    .action(async (opts: { dag?: string; limit?: number; json?: boolean }, cmd: Command) => {
      await withDatasetOperations(cmd, async (ops) => {
        const runs = await ops.etlRuns({
          ...(opts.dag ? { dagId: opts.dag } : {}),
          limit: opts.limit ?? 50,
        });
        if (opts.json) return printJson(runs);
        printTable(
          ['dag', 'run', 'status', 'duration', 'rows written', 'produced', 'consumed'],
          runs.map((r) => [
            r.dag_id,
            r.run_id,
            r.status,
            r.duration_ms === null ? '-' : `${(r.duration_ms / 1000).toFixed(1)} s`,
            String(r.rows_written),
            r.produced.map((p) => `${p.dataset}@v${p.version}`).join(' ') || '-',
            r.consumed.map((c) => `${c.dataset}@v${c.version}`).join(' ') || '-',
          ]),
          'no runs have read or written datasets',
        );
      });
    });

  datasets
    .command('vacuum')
    .option('--keep-last <n>', 'versions kept per dataset (default 10)', integerArg(1))
    .option('--keep-days <n>', 'also keep versions younger than this many days', integerArg(0))
    .option('--dataset <name>', 'only this dataset')
    .option('--dry-run', 'show what would be removed')
    .option('--json', 'print the VacuumReport as JSON')
    .description('remove old versions (never one an alias points at), orphans and dead staging')
    .action(
      async (
        opts: {
          keepLast?: number;
          keepDays?: number;
          dataset?: string;
          dryRun?: boolean;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        await withDatasetOperations(cmd, async (ops) => {
          const report = await ops.vacuum({
            ...(opts.keepLast === undefined ? {} : { keepLast: opts.keepLast }),
            ...(opts.keepDays === undefined ? {} : { keepDays: opts.keepDays }),
            ...(opts.dataset === undefined ? {} : { dataset: opts.dataset }),
            dryRun: opts.dryRun ?? false,
          });
          if (opts.json) return printJson(report);
          const verb = report.dryRun ? 'would remove' : 'removed';
          say(
            `${verb} ${report.removedVersions.length} version(s), ${bytes(report.bytesFreed)}: ${report.removedVersions.map((v) => `${v.dataset}@v${v.version}`).join(' ') || '-'}`,
          );
          for (const p of report.protectedVersions)
            say(`kept ${p.dataset}@v${p.version}: ${p.why}`);
          say(
            `${verb} ${report.removedOrphans.length} orphan folder(s) and ${report.removedStaging.length} staging folder(s)`,
          );
        });
      },
    );

  datasets
    .command('compact <dataset>')
    .option('--version <n>', 'version (default latest)', versionArg)
    .option('--target-mb <n>', 'target file size in MiB (default 256)', integerArg(1))
    .option('--json', 'print the CompactionResult as JSON')
    .description('rewrite a version of many small Parquet files into fewer')
    .action(
      async (
        dataset: string,
        opts: { version?: number; targetMb?: number; json?: boolean },
        cmd: Command,
      ) => {
        await withDatasetOperations(cmd, async (ops) => {
          const result = await ops.compact(
            dataset,
            opts.version,
            (opts.targetMb ?? 256) * 1024 * 1024,
          );
          if (opts.json) return printJson(result);
          say(
            result.compacted
              ? `${dataset} v${result.version}: ${result.filesBefore} → ${result.filesAfter} file(s) in ${result.path}`
              : `${dataset} v${result.version} is already compact (${result.filesBefore} file(s))`,
          );
        });
      },
    );

  const policy = datasets
    .command('policy')
    .description('who may move an alias, and the gates a version must pass');
  policy
    .command('show <dataset> <alias>')
    .option('--json', 'print the AliasPolicy as JSON')
    .action(async (dataset: string, alias: string, opts: { json?: boolean }, cmd: Command) => {
      await withDatasetOperations(cmd, async (ops) => {
        const p = await ops.getAliasPolicy(dataset, alias);
        if (opts.json) return printJson(p);
        say(
          `${dataset}@${alias} (${p.source} policy): roles ${p.roles.join(', ') || 'none'}; blocking checks ${p.requireChecks ? 'required' : 'not required'}; approval ${p.requireApproval ? 'required' : 'not required'}`,
        );
      });
    });
  policy
    .command('set <dataset> <alias>')
    .description("set the policy of an alias for a dataset, or for every dataset with '*'")
    .requiredOption(
      '--roles <roles>',
      `roles that may move it, comma-separated (${POLICY_ROLES.join(', ')}; pipeline: a promote task)`,
    )
    .option(
      '--require-approval',
      'a user with the op or admin role must approve each version first',
    )
    .option('--no-require-checks', 'allow versions whose blocking quality checks failed')
    .action(
      async (
        dataset: string,
        alias: string,
        opts: { roles: string; requireApproval?: boolean; requireChecks: boolean },
        cmd: Command,
      ) => {
        const roles = opts.roles
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean);
        const unknown = roles.filter((r) => !(POLICY_ROLES as readonly string[]).includes(r));
        if (unknown.length > 0)
          throw new UsageError(
            `unknown role(s) ${unknown.join(', ')}: use ${POLICY_ROLES.join(', ')}`,
          );
        await withDatasetOperations(cmd, async (ops) => {
          await ops.setAliasPolicy(
            {
              dataset,
              alias,
              roles: roles as PolicyRole[],
              requireChecks: opts.requireChecks,
              requireApproval: opts.requireApproval ?? false,
            },
            localActor(),
          );
          say(`policy of ${dataset}@${alias} set`);
        });
      },
    );
}

/** A version number: `3` or `v3`. */
export function versionArg(text: string): number {
  const match = /^v?([1-9][0-9]*)$/.exec(text);
  if (match === null)
    throw new UsageError(`'${text}' is not a version: use a number such as 3 or v3`);
  return Number(match[1]);
}

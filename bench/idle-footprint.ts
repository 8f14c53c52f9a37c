/**
 * Idle footprint of `updraft standalone`: the real CLI (`bin/updraft.js`) on a temp home,
 * with the repository's demo pipelines (first start, then restarted on the same home)
 * and with an empty pipelines folder. The first start creates the embedded store; a
 * restart opens it, which takes far less memory (see the PGlite baselines).
 * After it answers `/health` and its CPU has settled (catch-up runs done), CPU time
 * (utime + stime from /proc) of the process AND its descendants (executor workers,
 * loader, esbuild service) is sampled over 30 s, and resident memory summed over the
 * same tree.
 *
 * Baselines (same run, same sampling): a bare Node process, and a Node process with
 * the embedded store (PGlite) idle — created in a new folder, and reopened — the share
 * of memory the store alone takes.
 *
 *     node --import tsx bench/idle-footprint.ts
 *     UPDRAFT_BENCH_IDLE_SECONDS=10 node --import tsx bench/idle-footprint.ts   # quicker
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './support/engine.ts';
import { runMain } from './support/main.ts';
import { cpuBetween, type ProcessSample, sampleTree } from './support/proc.ts';
import { type Figure, progress } from './support/report.ts';
import { type Scope, withScope } from './support/scope.ts';
import { freePort, type Service, startService, waitUntil } from './support/service.ts';

const NAME = 'idle footprint';
const REPO = fileURLToPath(new URL('..', import.meta.url));
/** Length of the CPU sample of `updraft standalone` (default 30 s). */
const SAMPLE_SECONDS = Number(process.env.UPDRAFT_BENCH_IDLE_SECONDS ?? 30);
/** Length of the CPU sample of the baseline processes. */
const BASELINE_SECONDS = Math.min(SAMPLE_SECONDS, 10);
/** The tree counts as settled once a 2 s window uses less than this share of one core. */
const SETTLED_CPU_PERCENT = 3;
const MAX_SETTLE_MS = 120_000;

/** What was measured of one process tree. */
interface Footprint {
  /** Average CPU over the sample, in % of one core. */
  cpuPercent: number;
  /** Resident memory of the whole tree at the end of the sample. */
  rssMiB: number;
  /** Processes of the tree: role, RSS, CPU %. */
  parts: { role: string; rssMiB: number; cpuPercent: number }[];
  /** Whether the code ran compiled (`dist/`) or from the TypeScript sources (tsx). */
  code: 'dist' | 'sources';
}

const PGLITE_IDLE = `import { PGlite } from '@electric-sql/pglite';
const db = await PGlite.create(process.argv[1]);
await db.query('select 1');
setInterval(() => {}, 1 << 30);
console.log('ready');`;

/** Runs the benchmark; returns its figures. */
export async function idleFootprint(): Promise<Figure[]> {
  const bare = await withScope((scope) =>
    measureBaseline(scope, 'bare node process', [
      '-e',
      'setInterval(() => {}, 1 << 30); console.log("ready")',
    ]),
  );
  const [created, reopened] = await withScope(async (outer) => {
    const dir = path.join(tempDir(outer, 'pglite'), 'db');
    const args = ['--input-type=module', '-e', PGLITE_IDLE, dir];
    return [
      await withScope((scope) => measureBaseline(scope, 'node + PGlite, new store', args)),
      await withScope((scope) => measureBaseline(scope, 'node + PGlite, store reopened', args)),
    ];
  });
  const baseline = `bare node ${describe(bare)}; node + PGlite: new store ${describe(created)}, reopened ${describe(reopened)}`;

  const measured: { label: string; f: Footprint }[] = [];
  await withScope(async (outer) => {
    const home = tempDir(outer, 'standalone');
    const demo = path.join(REPO, 'pipelines');
    measured.push({
      label: 'demo pipelines, first start',
      f: await withScope((scope) => measureStandalone(scope, home, demo)),
    });
    measured.push({
      label: 'demo pipelines, restarted',
      f: await withScope((scope) => measureStandalone(scope, home, demo)),
    });
  });
  await withScope(async (scope) => {
    const home = tempDir(scope, 'standalone');
    const empty = path.join(home, 'pipelines');
    mkdirSync(empty);
    measured.push({
      label: 'empty pipelines folder, first start',
      f: await measureStandalone(scope, home, empty),
    });
  });

  const figures: Figure[] = [];
  for (const { label, f } of measured) {
    figures.push(
      {
        benchmark: NAME,
        metric: `CPU, ${label} (${SAMPLE_SECONDS} s)`,
        value: `${f.cpuPercent.toFixed(2)} % of a core`,
        target: '—',
        met: null,
        baseline,
      },
      {
        benchmark: NAME,
        metric: `RSS of the process tree, ${label}`,
        value: `${Math.round(f.rssMiB)} MiB`,
        target: '—',
        met: null,
        baseline: `${f.code === 'dist' ? 'compiled dist/' : 'sources via tsx'}: ${f.parts
          .map((p) => `${p.role} ${Math.round(p.rssMiB)} MiB / ${p.cpuPercent.toFixed(2)} %`)
          .join('; ')}`,
      },
    );
  }
  return figures;
}

function describe(f: Footprint): string {
  return `${f.cpuPercent.toFixed(2)} % CPU, ${Math.round(f.rssMiB)} MiB`;
}

/** A baseline process: started, ready (it prints `ready`), settled, sampled. */
async function measureBaseline(scope: Scope, label: string, args: string[]): Promise<Footprint> {
  progress(NAME, `baseline: ${label}`);
  const service = startService(scope, process.execPath, args, { cwd: REPO });
  await waitUntil(service, label, () => service.output().includes('ready'));
  await settle(service);
  const f = await sample(service, BASELINE_SECONDS);
  progress(NAME, `baseline: ${label}: ${describe(f)}`);
  return f;
}

/** `updraft standalone` on `home` and `pipelinesDir`: started, healthy, settled, sampled. */
async function measureStandalone(
  scope: Scope,
  home: string,
  pipelinesDir: string,
): Promise<Footprint> {
  const port = await freePort();
  const env = { ...process.env };
  delete env.UPDRAFT_DATABASE_URL;
  delete env.UPDRAFT_HOME;
  delete env.UPDRAFT_PIPELINES;
  const args = ['bin/updraft.js', 'standalone', '--home', home, '--pipelines', pipelinesDir];
  progress(NAME, `starting: node ${args.join(' ')} --port ${port}`);
  const service = startService(scope, process.execPath, [...args, '--port', String(port)], {
    cwd: REPO,
    env,
  });
  const started = Date.now();
  await waitUntil(service, 'updraft standalone', async () => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/health`)).ok;
    } catch {
      return false;
    }
  });
  progress(NAME, `healthy after ${Date.now() - started} ms; settling`);
  const settledAfter = await settle(service);
  progress(NAME, `settled after ${settledAfter} ms; sampling ${SAMPLE_SECONDS} s`);
  const f = await sample(service, SAMPLE_SECONDS);
  progress(NAME, `sampled: ${describe(f)}`);
  return f;
}

/** Waits until a 2 s window uses less than `SETTLED_CPU_PERCENT`; returns the time it took. */
async function settle(service: Service): Promise<number> {
  const started = Date.now();
  for (;;) {
    const before = sampleTree(service.pid);
    await sleep(2000);
    const used = total(cpuBetween(before, sampleTree(service.pid)));
    if ((used / 2) * 100 < SETTLED_CPU_PERCENT) return Date.now() - started;
    if (Date.now() - started > MAX_SETTLE_MS) {
      progress(
        NAME,
        `still ${((used / 2) * 100).toFixed(1)} % CPU after ${MAX_SETTLE_MS} ms; sampling anyway`,
      );
      return Date.now() - started;
    }
  }
}

/** CPU over `seconds` and memory at the end, for the whole tree. */
async function sample(service: Service, seconds: number): Promise<Footprint> {
  const before = sampleTree(service.pid);
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const after = sampleTree(service.pid);
  const elapsed = (Date.now() - t0) / 1000;
  if (service.exited()) throw new Error(`the process exited while sampled:\n${service.output()}`);
  const cpu = new Map(cpuBetween(before, after).map((c) => [c.pid, c.cpuSeconds]));
  return {
    cpuPercent: (total([...cpu.values()].map((cpuSeconds) => ({ cpuSeconds }))) / elapsed) * 100,
    rssMiB: after.reduce((sum, p) => sum + p.rssBytes, 0) / 2 ** 20,
    code: after.some((p) => p.command.includes('/dist/')) ? 'dist' : 'sources',
    parts: after.map((p) => ({
      role: role(p, service.pid),
      rssMiB: p.rssBytes / 2 ** 20,
      cpuPercent: ((cpu.get(p.pid) ?? 0) / elapsed) * 100,
    })),
  };
}

function total(parts: readonly { cpuSeconds: number }[]): number {
  return parts.reduce((sum, p) => sum + p.cpuSeconds, 0);
}

function role(p: ProcessSample, root: number): string {
  if (p.pid === root) return 'main';
  if (p.command.includes('worker-main')) return 'executor worker';
  if (p.command.includes('loader-process')) return 'loader process';
  if (p.command.includes('esbuild')) return 'esbuild service';
  return p.name;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

runMain(import.meta.url, idleFootprint);

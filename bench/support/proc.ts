/**
 * CPU time and resident memory of a process and all its descendants, read from Linux
 * `/proc` (`stat` for utime + stime in clock ticks, `status` for VmRSS).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** One process of a tree at one moment. */
export interface ProcessSample {
  pid: number;
  ppid: number;
  /** Short command name (`node`, `esbuild`). */
  name: string;
  /** The command line, arguments separated by spaces. */
  command: string;
  /** utime + stime, in seconds. */
  cpuSeconds: number;
  rssBytes: number;
}

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!Number.isFinite(ticksPerSecond) || ticksPerSecond <= 0) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

function readProcess(pid: number): ProcessSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // `pid (name) state ppid …`: the name may hold spaces and parentheses.
    const close = stat.lastIndexOf(')');
    const name = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    const ppid = Number(fields[1]);
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return {
      pid,
      ppid,
      name,
      command,
      cpuSeconds: ticks / clockTicks(),
      rssBytes: rss ? Number(rss[1]) * 1024 : 0,
    };
  } catch {
    return undefined; // gone meanwhile
  }
}

/** `root` and every process descending from it, as they are now. */
export function sampleTree(root: number): ProcessSample[] {
  const all: ProcessSample[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const p = readProcess(Number(entry));
    if (p) all.push(p);
  }
  const inTree = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) {
      if (!inTree.has(p.pid) && inTree.has(p.ppid)) {
        inTree.add(p.pid);
        grew = true;
      }
    }
  }
  return all.filter((p) => inTree.has(p.pid));
}

/** CPU used by a tree between two samples, per process (processes new in `after` count from 0). */
export function cpuBetween(
  before: readonly ProcessSample[],
  after: readonly ProcessSample[],
): { pid: number; command: string; cpuSeconds: number }[] {
  const start = new Map(before.map((p) => [p.pid, p.cpuSeconds]));
  return after.map((p) => ({
    pid: p.pid,
    command: p.command,
    cpuSeconds: p.cpuSeconds - (start.get(p.pid) ?? 0),
  }));
}

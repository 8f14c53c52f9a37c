/** The machine a benchmark ran on, for the record in bench/README.md. */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  /** 1-minute load average when the benchmark started (other work on a shared machine). */
  loadAverage: number;
  date: string;
}

/** Reads cores, CPU model (from /proc/cpuinfo), memory, Node version, load and date. */
export function machineInfo(): MachineInfo {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) cpuModel = line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // not Linux: keep what os.cpus() said
  }
  return {
    cores: os.availableParallelism(),
    cpuModel,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
    date: new Date().toISOString(),
  };
}

/** One line: `2 cores · Intel(R) Xeon(R) Processor · 24 GiB · node v20.20.2 · load 2.1 · <date>`. */
export function describeMachine(m: MachineInfo): string {
  return `${m.cores} cores · ${m.cpuModel} · ${m.memoryGiB} GiB · node ${m.node} · load ${m.loadAverage} · ${m.date}`;
}

import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const HOLD_LOCK = path.join(import.meta.dirname, 'fixtures', 'hold-lock.ts');

/** Starts a separate process that holds the store lock of `home`; resolves once it does. */
export async function holdLockInChild(home: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLD_LOCK, home], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('locked')) resolve();
    });
  });
  return child;
}

/** Kills a child with SIGKILL (no exit handlers run) and waits for it to be gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await gone;
}

/**
 * Redirects this process's stdout and stderr (console.log and friends in task code) to
 * a line callback while an attempt runs in a worker, so that the output lands in the
 * attempt log instead of the scheduler's terminal. Only one capture is active at a time.
 */
import { LineSplitter } from '../operators/line-splitter.ts';

type Stream = 'stdout' | 'stderr';
type Write = typeof process.stdout.write;

/** Starts capturing; returns the function that flushes partial lines and restores output. */
export function captureProcessOutput(onLine: (stream: Stream, line: string) => void): () => void {
  const restores = (['stdout', 'stderr'] as const).map((name) => {
    const stream = process[name];
    const original = stream.write;
    const lines = new LineSplitter((line) => onLine(name, line));
    const capture = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk));
      const callback = rest.find((arg) => typeof arg === 'function') as
        | ((error?: Error | null) => void)
        | undefined;
      if (callback) process.nextTick(callback);
      return true;
    };
    stream.write = capture as Write;
    return () => {
      lines.end();
      stream.write = original;
    };
  });
  return () => {
    for (const restore of restores) restore();
  };
}

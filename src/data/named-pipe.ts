/**
 * A named pipe (FIFO) in a scratch folder: one side writes a stream into it while
 * DuckDB reads it as a file. `release` unblocks a writer still waiting for a reader (the
 * reader failed before opening it), so neither side can hang on the other.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

export interface NamedPipe {
  path: string;
  /** Opens and closes the read end, so a writer blocked in `open` goes on (and sees EPIPE). */
  release(): Promise<void>;
}

/** Creates a FIFO at `file` with `mkfifo`. */
export function createPipe(file: string): Promise<NamedPipe> {
  return new Promise((resolve, reject) => {
    execFile('mkfifo', ['-m', '600', file], (error) => {
      if (error) {
        reject(
          new Error(`cannot create a named pipe at ${file}: ${error.message}`, { cause: error }),
        );
        return;
      }
      resolve({
        path: file,
        async release() {
          const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch(
            () => null,
          );
          await handle?.close();
        },
      });
    });
  });
}

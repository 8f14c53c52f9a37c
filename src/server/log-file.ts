/**
 * Reading task attempt logs for the API: byte ranges cut at line boundaries, forwards
 * from an offset (paging on, following a growing file) or backwards from an offset or
 * the end (showing the tail of a long log first, then earlier parts on demand).
 */
import fs from 'node:fs/promises';

export interface LogRange {
  lines: string[];
  /** Where the first returned line starts. */
  offset: number;
  /** After the last complete line returned. */
  nextOffset: number;
  /** File size now (0 when the file does not exist yet). */
  size: number;
}

/** Which part of the file to read, at most `maxBytes` of it. */
export type LogWindow =
  | { offset: number; maxBytes: number }
  /** The part that ends at `before` (the file's end when null). */
  | { before: number | null; maxBytes: number };

/**
 * Complete lines of a window of the file. Forwards, a line longer than `maxBytes` is
 * handed out cut rather than never (it would block paging); backwards, a window that
 * starts inside a line leaves that partial line out.
 */
export async function readLogRange(file: string, window: LogWindow): Promise<LogRange> {
  const handle = await fs.open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (!handle) {
    const at = 'offset' in window ? window.offset : 0;
    return { lines: [], offset: at, nextOffset: at, size: 0 };
  }
  try {
    const { size } = await handle.stat();
    const { maxBytes } = window;
    const forwards = 'offset' in window;
    const end = forwards ? size : Math.min(window.before ?? size, size);
    const start = forwards ? Math.min(window.offset, size) : Math.max(0, end - maxBytes);
    const length = Math.min(maxBytes, end - start);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, start);
    let first = 0;
    if (!forwards && start > 0) {
      // Keep the partial first line only when the byte before it ends a line.
      const before = Buffer.alloc(1);
      await handle.read(before, 0, 1, start - 1);
      if (before[0] !== 0x0a) first = buffer.indexOf(0x0a) + 1;
      if (first === 0 && before[0] !== 0x0a) first = bytesRead;
    }
    let last = buffer.lastIndexOf(0x0a, bytesRead - 1) + 1;
    // No newline in a full forward window: hand out the window so paging moves on.
    if (forwards && last === 0 && bytesRead === maxBytes) last = bytesRead;
    const slice = last > first ? buffer.subarray(first, last) : Buffer.alloc(0);
    const lines = slice
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    return { lines, offset: start + first, nextOffset: start + Math.max(first, last), size };
  } finally {
    await handle.close();
  }
}

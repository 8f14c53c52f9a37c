/**
 * Reading task attempt logs for the API: a byte range cut at line boundaries, and
 * following a growing file.
 */
import fs from 'node:fs/promises';

export interface LogRange {
  lines: string[];
  offset: number;
  /** After the last complete line returned. */
  nextOffset: number;
  /** File size now (0 when the file does not exist yet). */
  size: number;
}

/**
 * Complete lines starting at byte `offset`, reading at most `maxBytes`. A line longer
 * than `maxBytes` is returned whole-or-cut rather than never (it would block paging).
 */
export async function readLogRange(
  file: string,
  offset: number,
  maxBytes: number,
): Promise<LogRange> {
  const handle = await fs.open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (!handle) return { lines: [], offset, nextOffset: offset, size: 0 };
  try {
    const { size } = await handle.stat();
    const start = Math.min(offset, size);
    const length = Math.min(maxBytes, size - start);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, start);
    let end = buffer.lastIndexOf(0x0a, bytesRead - 1) + 1;
    // No newline in a full window: hand out the window so paging moves on.
    if (end === 0 && bytesRead === maxBytes) end = bytesRead;
    const text = buffer.subarray(0, end).toString('utf8');
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    return { lines, offset: start, nextOffset: start + end, size };
  } finally {
    await handle.close();
  }
}

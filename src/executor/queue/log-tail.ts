/**
 * Reads an attempt log that a worker process is appending to, in complete lines, so a
 * remote worker can ship it to the scheduler in order (see ADR 9, "logs").
 */
import { open, rm } from 'node:fs/promises';

/** Largest piece of log handed out at once (a report carries one). */
const MAX_CHUNK_BYTES = 256 * 1024;

export class LogTail {
  private offset = 0;

  constructor(readonly file: string) {}

  /**
   * The complete lines appended since the last call, in pieces of at most 256 KiB (a
   * longer line is cut). With `final`, also a last line without its newline.
   */
  async read(final = false): Promise<string[]> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    try {
      const pieces: string[] = [];
      for (;;) {
        const buffer = Buffer.alloc(MAX_CHUNK_BYTES);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
        if (bytesRead === 0) break;
        const chunk = buffer.subarray(0, bytesRead);
        const lastNewline = chunk.lastIndexOf(0x0a);
        const full = bytesRead === buffer.length;
        let take: number;
        if (lastNewline !== -1) take = lastNewline + 1;
        else if (full || final) take = bytesRead;
        else break;
        pieces.push(chunk.subarray(0, take).toString('utf8'));
        this.offset += take;
        if (take < bytesRead && !final) break;
      }
      return pieces;
    } finally {
      await handle.close();
    }
  }

  /** Removes the file (after the last read). */
  async remove(): Promise<void> {
    await rm(this.file, { force: true });
  }
}

/**
 * Splits a byte stream (a child's stdout, a patched `process.stdout`) into text lines.
 * UTF-8 sequences cut between chunks are kept whole; `\r\n` ends a line like `\n`; a
 * line longer than `maxLineChars` is emitted in pieces so one runaway line cannot hold
 * unbounded memory.
 */
import { StringDecoder } from 'node:string_decoder';

/** Longest line emitted in one piece (default 64 Ki characters). */
export const DEFAULT_MAX_LINE_CHARS = 65_536;

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLineChars = DEFAULT_MAX_LINE_CHARS,
  ) {}

  /** Feeds a chunk; calls `onLine` for every line it completes. */
  push(chunk: Buffer | string): void {
    const text = this.pending + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      this.emit(text.slice(start, newline));
      start = newline + 1;
    }
    let rest = text.slice(start);
    while (rest.length > this.maxLineChars) {
      this.onLine(rest.slice(0, this.maxLineChars));
      rest = rest.slice(this.maxLineChars);
    }
    this.pending = rest;
  }

  /** Emits what is left after the last newline (if anything). */
  end(): void {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    if (rest !== '') this.emit(rest);
  }

  private emit(line: string): void {
    let text = line.endsWith('\r') ? line.slice(0, -1) : line;
    while (text.length > this.maxLineChars) {
      this.onLine(text.slice(0, this.maxLineChars));
      text = text.slice(this.maxLineChars);
    }
    this.onLine(text);
  }
}

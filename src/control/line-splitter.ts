/**
 * Splits a byte stream into newline-terminated UTF-8 lines, refusing any line longer
 * than a limit (so a peer cannot make the other side buffer without bound).
 */
export class LineSplitter {
  private chunks: Buffer[] = [];
  private pending = 0;
  private overflowed = false;

  /**
   * @param maxBytes longest accepted line, without its newline
   * @param onLine called with each complete line
   * @param onOverflow called once when a line exceeds `maxBytes`; nothing is delivered after it
   */
  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: (bytes: number) => void,
  ) {}

  /** Feeds received bytes. */
  push(chunk: Buffer): void {
    if (this.overflowed) return;
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      if (this.pending + piece.length > this.maxBytes) {
        this.overflow(piece.length);
        return;
      }
      const line =
        this.chunks.length === 0
          ? piece.toString('utf8')
          : Buffer.concat([...this.chunks, piece]).toString('utf8');
      this.chunks = [];
      this.pending = 0;
      start = nl + 1;
      if (line.trim() !== '') this.onLine(line);
      if (this.overflowed) return;
    }
    const rest = chunk.subarray(start);
    if (rest.length === 0) return;
    if (this.pending + rest.length > this.maxBytes) {
      this.overflow(rest.length);
      return;
    }
    this.chunks.push(rest);
    this.pending += rest.length;
  }

  private overflow(extra: number): void {
    this.overflowed = true;
    const bytes = this.pending + extra;
    this.chunks = [];
    this.pending = 0;
    this.onOverflow(bytes);
  }
}

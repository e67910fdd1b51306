/**
 * The last `limit` bytes written to it, however much is written: a command's output kept for a
 * failure message without holding all of it. Chunks are dropped from the front as new ones come;
 * the first kept chunk is cut at the limit (its cut line is partial, and `truncated` says so).
 */
export class TailBuffer {
  readonly limit: number;
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes dropped from the front so far. */
  dropped = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  push(chunk: Buffer): void {
    if (chunk.length >= this.limit) {
      this.dropped += this.size + chunk.length - this.limit;
      this.chunks = [chunk.subarray(chunk.length - this.limit)];
      this.size = this.limit;
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit) {
      const first = this.chunks[0] as Buffer;
      const over = this.size - this.limit;
      if (first.length <= over) {
        this.chunks.shift();
        this.size -= first.length;
        this.dropped += first.length;
      } else {
        this.chunks[0] = first.subarray(over);
        this.size -= over;
        this.dropped += over;
      }
    }
  }

  /** Whether anything was dropped: the first line of `text()` may then be a partial one. */
  get truncated(): boolean {
    return this.dropped > 0;
  }

  /** What is kept, as UTF-8 (a character cut at the front shows as U+FFFD). */
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  /** The last `n` non-empty lines kept, without a partial first line once something was dropped. */
  lastLines(n: number): string[] {
    const lines = this.text().split(/\r?\n/);
    if (this.truncated) lines.shift();
    return lines.filter((l) => l.trim() !== '').slice(-n);
  }
}

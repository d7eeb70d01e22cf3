// Bytes received in chunks, taken off the front in pieces of a protocol's framing (SPDY frames, gRPC messages).
// A piece inside one chunk is a view of it; only a piece spanning chunks is copied, once.

export class ByteQueue {
  private chunks: Buffer[] = [];
  /** Bytes held. */
  length = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  clear(): void {
    this.chunks = [];
    this.length = 0;
  }

  /** The first `n` bytes as one buffer, still held (a header to peek at). @throws RangeError past `length` */
  peek(n: number): Buffer {
    if (n > this.length) throw new RangeError(`peek of ${n} bytes with ${this.length} held`);
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  /** Takes `n` bytes off the front. @throws RangeError past `length` */
  take(n: number): Buffer {
    if (n > this.length) throw new RangeError(`take of ${n} bytes with ${this.length} held`);
    this.length -= n;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, k);
      filled += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}

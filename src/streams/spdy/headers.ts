// SPDY/3 header blocks (streaming.md §4.3): `count(32)` then `len(32) name len(32) value` pairs, names lower-case,
// several values of one name joined with NUL. Each direction of a connection is one zlib stream primed with the
// SPDY/3 dictionary and sync-flushed per block; it is never reset, so both sides keep one context per connection.
// Node's zlib is asynchronous for a persistent context, so blocks go through a strict FIFO.
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.js';
import { SpdyProtocolError } from './frames.js';

/** Header names (lower-case) to values; several values of one name are NUL-joined, as on the wire. */
export type SpdyHeaders = Record<string, string>;

/** An inflated header block larger than this is refused: a tiny block can inflate to a lot. */
export const MAX_HEADER_BLOCK_SIZE = 256 * 1024;

export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [u32(entries.length)];
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(value, 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

/** @throws SpdyProtocolError when the block is truncated, has an empty or repeated name */
export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  const fail = (why: string): never => {
    throw new SpdyProtocolError(`invalid header block: ${why}`);
  };
  if (block.length < 4) fail('truncated');
  const count = block.readUInt32BE(0);
  const headers: SpdyHeaders = {};
  let pos = 4;
  const field = (): string => {
    if (pos + 4 > block.length) fail('truncated');
    const len = block.readUInt32BE(pos);
    pos += 4;
    if (pos + len > block.length) fail('truncated');
    const s = block.toString('utf8', pos, pos + len);
    pos += len;
    return s;
  };
  for (let i = 0; i < count; i++) {
    const name = field();
    const value = field();
    if (name === '') fail('empty header name');
    if (Object.hasOwn(headers, name)) fail(`duplicate header ${name}`);
    headers[name] = value;
  }
  if (pos !== block.length) fail('trailing bytes');
  return headers;
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

/** One persistent zlib context; `process` pushes one block through with a sync flush, in call order. */
class ZlibContext {
  private chunks: Buffer[] = [];
  private size = 0;
  private failure: Error | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private pending: ((err: Error) => void) | undefined;

  constructor(
    private readonly z: Inflate | Deflate,
    private readonly what: string
  ) {
    z.on('data', (chunk: Buffer) => {
      this.size += chunk.length;
      if (this.size > MAX_HEADER_BLOCK_SIZE)
        this.fail(new SpdyProtocolError(`header block larger than ${MAX_HEADER_BLOCK_SIZE} bytes`));
      else this.chunks.push(chunk);
    });
    z.on('error', (err) => this.fail(new SpdyProtocolError(`${what} header block: ${err.message}`)));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.pending?.(this.failure);
    this.z.destroy();
  }

  process(input: Buffer): Promise<Buffer> {
    const run = (): Promise<Buffer> =>
      new Promise<Buffer>((resolve, reject) => {
        if (this.failure) return reject(this.failure);
        this.pending = reject;
        this.z.write(input);
        this.z.flush(constants.Z_SYNC_FLUSH, () => {
          this.pending = undefined;
          if (this.failure) return reject(this.failure);
          const out = Buffer.concat(this.chunks);
          this.chunks = [];
          this.size = 0;
          resolve(out);
        });
      });
    const result = this.tail.then(run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.failure ??= new Error(`${this.what} context closed`);
    this.z.destroy();
  }
}

/** The compressing side of a connection (what this end sends). */
export class HeaderCompressor {
  private readonly ctx = new ZlibContext(createDeflate({ dictionary: SPDY3_DICTIONARY }), 'compressing');

  compress(headers: SpdyHeaders): Promise<Buffer> {
    return this.ctx.process(encodeHeaderBlock(headers));
  }

  close(): void {
    this.ctx.close();
  }
}

/** The inflating side of a connection (what the peer sends). */
export class HeaderDecompressor {
  private readonly ctx = new ZlibContext(createInflate({ dictionary: SPDY3_DICTIONARY }), 'inflating');

  /** @throws SpdyProtocolError (rejects) when the block is not valid zlib or not a valid header block */
  async decompress(block: Buffer): Promise<SpdyHeaders> {
    return decodeHeaderBlock(await this.ctx.process(block));
  }

  close(): void {
    this.ctx.close();
  }
}

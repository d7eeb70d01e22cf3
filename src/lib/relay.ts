// Byte relays between two streams (the API server's upgrade relay, the kubelet's port-forward, kube-proxy): like
// `src.pipe(dst)`, except that what arrives within one tick of the event loop is written as one `writev`. A TLS
// socket emits every record it decrypts from one read as a chunk of its own — kubectl sends a SPDY frame's 8-byte
// header and its payload as separate records, so a read brings 16 KiB chunks between 4-byte ones — and a pipe
// writes each on its own: a syscall each (on loopback the receiver's kernel work too) and, toward TLS, a record
// each that the next hop must decrypt and emit on its own again. Corked for the tick, they go out together.
import type { Readable, Writable } from 'node:stream';

/** A `write` for `dst` that corks it on the first write of a tick and uncorks it when the tick is over. */
export function tickCorkedWriter(dst: Writable): (chunk: Buffer, cb?: (err?: Error | null) => void) => boolean {
  let corked = false;
  const uncork = (): void => {
    corked = false;
    dst.uncork();
  };
  return (chunk, cb) => {
    if (!corked) {
      corked = true;
      dst.cork();
      process.nextTick(uncork);
    }
    return dst.write(chunk, cb);
  };
}

export interface RelayOptions {
  /** Stop reading `src` while `dst` holds more than this many unwritten bytes. @default 262144 */
  highWaterMark?: number;
}

/**
 * `src.pipe(dst)` with tick-corked writes: `dst` ends when `src` does; reading pauses while `dst` is over
 * `highWaterMark` until it drains.
 */
export function relay(src: Readable, dst: Writable, options: RelayOptions = {}): void {
  const highWaterMark = options.highWaterMark ?? 256 * 1024;
  const write = tickCorkedWriter(dst);
  let waiting = false;
  const onDrain = (): void => {
    waiting = false;
    src.resume();
  };
  src.on('data', (chunk: Buffer) => {
    write(chunk);
    // Over dst's own (smaller) high-water mark, write() returned false, so 'drain' will come.
    if (!waiting && dst.writableLength > highWaterMark) {
      waiting = true;
      src.pause();
      dst.once('drain', onDrain);
    }
  });
  src.once('end', () => dst.end());
}

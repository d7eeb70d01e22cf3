// The frames on a shim's attach connection, both ways: 1 byte type, 4 bytes length (big-endian), data. From the
// container: stdout, stderr. To it: stdin, and terminal sizes for a TTY container. The type numbers are the
// channel.k8s.io channels'. The client's half-close ends the container's stdin when it has `stdinOnce`.
import type { TerminalSize } from '../../streams/index.js';

export const AttachFrame = { Stdin: 0, Stdout: 1, Stderr: 2, Resize: 4 } as const;

/** Frames larger than this are not ours: the connection is dropped. */
const MAX_FRAME = 16 << 20;

export function encodeAttachFrame(type: number, data: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt32BE(data.length, 1);
  return Buffer.concat([head, data]);
}

export function encodeResizeFrame(size: TerminalSize): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(Math.min(size.width, 0xffff), 0);
  b.writeUInt16BE(Math.min(size.height, 0xffff), 2);
  return encodeAttachFrame(AttachFrame.Resize, b);
}

export function decodeResize(data: Buffer): TerminalSize | undefined {
  return data.length === 4 ? { width: data.readUInt16BE(0), height: data.readUInt16BE(2) } : undefined;
}

/** Splits a byte stream into frames; false from write() means the stream is not made of frames. */
export class AttachFrameDecoder {
  #buf: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (type: number, data: Buffer) => void) {}

  write(chunk: Buffer): boolean {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    while (this.#buf.length >= 5) {
      const len = this.#buf.readUInt32BE(1);
      if (len > MAX_FRAME) return false;
      if (this.#buf.length < 5 + len) break;
      this.onFrame(this.#buf[0]!, this.#buf.subarray(5, 5 + len));
      this.#buf = this.#buf.subarray(5 + len);
    }
    return true;
  }
}

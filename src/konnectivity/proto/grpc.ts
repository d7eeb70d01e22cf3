// Konnectivity's two bidi-streaming gRPC methods served straight on node:http2. gRPC on the wire is small: a
// POST with `content-type: application/grpc`, each message behind a 5-byte prefix (compressed flag, length), the
// status in trailers (`grpc-status`, `grpc-message`), or in the response headers alone when the call fails before
// any message (trailers-only). grpc-js was the server before; per idle agent its call, metadata and channelz
// objects cost ~15 KiB on top of the HTTP/2 session (docs/benchmarks.md, issue 7), and every message went through
// two more stream layers. The tests keep grpc-js as the peer, so each side is checked against a real gRPC stack.
import * as http2 from 'node:http2';
import { Duplex } from 'node:stream';
import { ByteQueue } from '../../lib/byte-queue.js';
import { decodeData, encodeData } from './data-codec.js';
import { decodePacket, encodePacket, type Packet } from './packet.js';

/** The gRPC status codes this transport sends or reads. */
export const GrpcStatus = {
  OK: 0,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/** grpc-go's and grpc-js's default receive limit. A DATA packet is at most 64 KiB of payload. */
const maxMessageBytes = 4 << 20;
const prefixBytes = 5;
const cancelCode = http2.constants.NGHTTP2_CANCEL;

export class GrpcError extends Error {
  constructor(
    readonly code: GrpcStatusCode,
    message: string
  ) {
    super(message);
  }
}

/** grpc-message is percent-encoded UTF-8 outside printable ASCII (and `%` itself), per the gRPC HTTP/2 spec. */
export function encodeGrpcMessage(message: string): string {
  return message.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) =>
    [...Buffer.from(c)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('')
  );
}

/** Splits a byte stream into gRPC messages; a message arriving in pieces is joined once, when complete. */
class MessageReader {
  private readonly bytes = new ByteQueue();
  /** Length of the message being read, or -1 while its prefix is still awaited. */
  private need = -1;

  /** @throws GrpcError on a compressed message (none was negotiated) or one over the size limit */
  feed(chunk: Buffer, onMessage: (message: Buffer) => void): void {
    this.bytes.push(chunk);
    for (;;) {
      if (this.need < 0) {
        if (this.bytes.length < prefixBytes) return;
        const prefix = this.bytes.take(prefixBytes);
        if (prefix[0] !== 0)
          throw new GrpcError(GrpcStatus.UNIMPLEMENTED, 'compressed gRPC message, but no grpc-encoding is accepted');
        this.need = prefix.readUInt32BE(1);
        if (this.need > maxMessageBytes)
          throw new GrpcError(
            GrpcStatus.RESOURCE_EXHAUSTED,
            `gRPC message of ${this.need} bytes is over the ${maxMessageBytes}-byte limit`
          );
      }
      if (this.bytes.length < this.need) return;
      const message = this.bytes.take(this.need);
      this.need = -1;
      onMessage(message);
    }
  }
}

/** The gRPC message prefix (uncompressed, length) into the first 5 bytes of `b`. */
function writePrefix(b: Buffer, length: number): void {
  b[0] = 0;
  b.writeUInt32BE(length, 1);
}

/**
 * Packets over one HTTP/2 stream, as an object-mode Duplex (what grpc-js's call objects were, so backpressure
 * works the same: `write()` false → 'drain'; a paused reader pauses the HTTP/2 stream and so its flow window).
 */
export abstract class PacketStream extends Duplex {
  private readonly reader = new MessageReader();
  /** Our side sent its end (a status, or the client's half-close): nothing left to cancel. */
  protected finished = false;

  constructor(protected readonly h2: http2.Http2Stream) {
    super({ objectMode: true, allowHalfOpen: true });
    h2.on('data', (chunk: Buffer) => this.received(chunk));
    h2.on('end', () => this.push(null));
    h2.on('error', (err: Error) => (this.transportError = err));
    h2.on('close', () => this.streamClosed());
  }

  /** Why the HTTP/2 stream failed, when it did (a reset, the session lost). */
  protected transportError?: Error;

  /** The HTTP/2 stream is gone. The server side only closes (its owner needs to know the call is gone, not why). */
  protected streamClosed(): void {
    this.destroy();
  }

  /** The call failed (bad message, refused): end it with this status. */
  protected abstract fail(code: GrpcStatusCode, message: string): void;

  private received(chunk: Buffer): void {
    if (this.destroyed) return;
    try {
      this.reader.feed(chunk, (message) => {
        if (!this.push(decodeData(message) ?? decodePacket(message))) this.h2.pause();
      });
    } catch (err) {
      const e = err instanceof GrpcError ? err : new GrpcError(GrpcStatus.INTERNAL, `bad packet: ${String(err)}`);
      this.fail(e.code, e.message);
    }
  }

  override _read(): void {
    this.h2.resume();
  }

  override _writev(chunks: { chunk: Packet }[], done: (err?: Error | null) => void): void {
    if (this.h2.destroyed) return done();
    this.beforeWrite();
    // Corked: one writev per batch, so what the relays coalesced per tick stays one write down here too; a DATA
    // payload goes out as the caller's own buffer, behind a head that carries the prefix (./data-codec.ts).
    const parts: Buffer[] = [];
    for (const { chunk } of chunks) {
      const data = encodeData(chunk, prefixBytes);
      if (data) {
        writePrefix(data[0]!, data[0]!.length - prefixBytes + (data[1]?.length ?? 0));
        parts.push(...data);
      } else {
        const body = encodePacket(chunk);
        const head = Buffer.allocUnsafe(prefixBytes);
        writePrefix(head, body.length);
        parts.push(head, body);
      }
    }
    this.h2.cork();
    const last = parts.pop()!;
    for (const part of parts) this.h2.write(part);
    this.h2.write(last, () => done());
    this.h2.uncork();
  }

  /** Response headers go out before the first message (server side). */
  protected beforeWrite(): void {}

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    // Our side still open means the call is being abandoned: reset it (CANCEL), as a gRPC peer does.
    if (!this.h2.destroyed && !this.finished) this.h2.close(cancelCode);
    done(err);
  }
}

/**
 * The client half: one call on an HTTP/2 session, as grpc-js's ClientDuplexStream behaves — 'metadata' with the
 * response headers, 'end' after an OK status, 'error' (a GrpcError) for any other status or a lost transport.
 */
export class ClientCall extends PacketStream {
  private status?: GrpcError;
  private cancelled = false;

  constructor(session: http2.ClientHttp2Session, path: string, metadata: Record<string, string>) {
    const h2 = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...metadata,
    });
    super(h2);
    h2.on('response', (headers) => {
      const httpStatus = headers[':status'];
      if (httpStatus !== 200) this.status = new GrpcError(GrpcStatus.UNKNOWN, `HTTP status ${httpStatus}`);
      else if (headers['grpc-status'] !== undefined)
        this.status = statusOf(headers); // trailers-only
      else this.emit('metadata', headers);
    });
    h2.on('trailers', (trailers) => (this.status = statusOf(trailers)));
  }

  /** Abandons the call (RST_STREAM CANCEL); no 'error' follows. */
  cancel(): void {
    this.cancelled = true;
    this.destroy();
  }

  protected fail(code: GrpcStatusCode, message: string): void {
    this.status = new GrpcError(code, message);
    this.destroy(this.status);
  }

  protected override streamClosed(): void {
    if (this.cancelled || this.status?.code === GrpcStatus.OK) return void this.destroy();
    const reset = this.h2.rstCode ? `stream reset by the server (HTTP/2 error ${this.h2.rstCode})` : 'stream closed';
    this.destroy(this.status ?? new GrpcError(GrpcStatus.UNAVAILABLE, this.transportError?.message ?? reset));
  }

  override _final(done: (err?: Error | null) => void): void {
    this.finished = true;
    if (!this.h2.destroyed) this.h2.end();
    done();
  }
}

/** The status a server sent in `grpc-status` / `grpc-message` (percent-encoded, per the spec). */
function statusOf(headers: http2.IncomingHttpHeaders): GrpcError {
  const code = Number(headers['grpc-status']) as GrpcStatusCode;
  const raw = headers['grpc-message'];
  let message = typeof raw === 'string' ? raw : '';
  try {
    message = decodeURIComponent(message);
  } catch {
    // not percent-encoded after all: keep it as sent
  }
  return new GrpcError(code, message || `gRPC status ${code}`);
}

/**
 * A client session for tunnel calls: our HTTP/2 windows (below), and session errors left to reach each call as
 * its 'error' rather than the process.
 */
export function connectTunnelSession(
  authority: string,
  options: http2.SecureClientSessionOptions = {}
): http2.ClientHttp2Session {
  const session = http2.connect(authority, { ...options, settings: tunnelSettings });
  session.on('error', () => {});
  session.once('connect', () => session.setLocalWindowSize(tunnelWindowBytes));
  return session;
}

export interface KeepaliveOptions {
  /** PING every this often. */
  timeMs: number;
  /** A PING not answered within this drops the session, with every call on it. */
  timeoutMs: number;
}

/** HTTP/2 PINGs on a session, as gRPC's keepalive: a peer that stops answering is dropped. */
export function keepSessionAlive(session: http2.Http2Session, o: KeepaliveOptions): void {
  const timer = setInterval(() => {
    if (session.destroyed || session.closed) return;
    const deadline = setTimeout(() => session.destroy(), o.timeoutMs).unref();
    const sent = session.ping((err) => {
      clearTimeout(deadline);
      if (err && !session.destroyed) session.destroy();
    });
    if (!sent) clearTimeout(deadline); // PINGs already unanswered: the earlier deadline stands
  }, o.timeMs).unref();
  session.once('close', () => clearInterval(timer));
}

/**
 * HTTP/2 flow control sized for a tunnel: the 64 KiB default allows one window per round trip. Konnectivity's
 * own per-connection windows (../flow.ts) bound what is buffered, so the transport may let more through.
 */
export const tunnelWindowBytes = 4 << 20;
export const tunnelSettings: http2.Settings = { initialWindowSize: tunnelWindowBytes, maxFrameSize: 1 << 17 };

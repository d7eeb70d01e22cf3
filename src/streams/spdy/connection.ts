// A SPDY/3.1 connection over an upgraded socket, as Kubernetes uses it (streaming.md §4): a stream multiplexer
// with no HTTP inside. Streams are Node Duplexes; PINGs are answered; GOAWAY and RST_STREAM end things cleanly;
// any malformed frame closes this connection (GOAWAY PROTOCOL_ERROR, then the socket) and nothing throws.
//
// Flow control: Go's spdystream (kubectl, the kubelet) implements none of SPDY/3.1's windows, so this end never
// waits for a WINDOW_UPDATE unless the peer announced windows with a SETTINGS INITIAL_WINDOW_SIZE — which only
// this library does (the opening side sends SETTINGS first, the accepting side answers with its own). Between two
// such ends a stream whose reader is slow stops only that stream. A peer that ignores windows cannot be stopped
// per stream; once one stream holds `maxBufferedPerStream` unread bytes, reading the socket pauses (TCP
// backpressure) until that reader catches up, so memory stays bounded either way.
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { ByteQueue } from '../../lib/byte-queue.js';
import {
  FRAME_HEADER_SIZE,
  Flag,
  GoAwayStatus,
  MAX_FRAME_LENGTH,
  RstStatus,
  SettingId,
  SpdyProtocolError,
  dataFrameHeader,
  decodeFrame,
  encodeFrame,
  type Frame,
} from './frames.js';
import { HeaderCompressor, HeaderDecompressor, type SpdyHeaders } from './headers.js';

export interface SpdyConnectionOptions {
  /** The accepting end (even stream and ping ids) or the opening end (odd ids). */
  isServer: boolean;
  /** Bytes already read past the HTTP upgrade head (Node's `'upgrade'` event `head`). */
  head?: Buffer;
  /** Close the connection after this long without a frame either way; 0 = never. @default 0 */
  idleTimeoutMs?: number;
  /** The receive window granted per stream to peers that use flow control. @default 262144 */
  initialWindowSize?: number;
  /** Unread bytes one stream may hold before the socket stops being read. @default 1048576 */
  maxBufferedPerStream?: number;
  /** Larger frames are a protocol error. @default 16777215 (the format's limit) */
  maxFrameSize?: number;
  /** How long a graceful `close()` waits for the peer to close the socket before destroying it. @default 30000 */
  closeTimeoutMs?: number;
}

/** SPDY/3.1's default initial window, which a peer that announced flow control starts from. */
const DEFAULT_WINDOW = 65536;
/** Payload per DATA frame written; Go writes 32 KiB (its io.Copy buffer). */
const MAX_DATA_PAYLOAD = 32 * 1024;

export interface OpenStreamOptions {
  /** Send FIN with the SYN_STREAM (nothing to write). */
  fin?: boolean;
  /** Reject when no SYN_REPLY arrives in time. @default 30000 (upstream's streamCreationTimeout) */
  timeoutMs?: number;
}

/**
 * One SPDY stream. The readable side is the peer's DATA (ends at its FIN, or at an RST_STREAM after the data
 * already received, as spdystream treats it); writing sends DATA and `end()` sends FIN. Destroying a stream that
 * is not finished both ways sends RST_STREAM CANCEL. Never emits 'error'.
 */
export class SpdyStream extends Duplex {
  /** Set once SYN_REPLY was sent (accepted streams) or received (opened streams). */
  replied = false;
  /** The RST_STREAM status, when either side reset the stream. */
  resetStatus: number | undefined;
  /** @internal */ localEnded = false;
  /** @internal */ remoteEnded = false;
  /** @internal */ sendWindow: number;
  /** @internal */ windowWaiter: (() => void) | undefined;
  /** @internal */ received = 0;
  /** @internal */ acknowledged = 0;

  constructor(
    readonly connection: SpdyConnection,
    readonly id: number,
    readonly headers: SpdyHeaders,
    sendWindow: number,
    highWaterMark: number
  ) {
    super({ readableHighWaterMark: highWaterMark, writableHighWaterMark: MAX_DATA_PAYLOAD * 2 });
    this.sendWindow = sendWindow;
  }

  /** Accept a stream the peer opened (SYN_REPLY). */
  reply(headers: SpdyHeaders = {}): void {
    this.connection.sendReply(this, headers);
  }

  /** Refuse or abort the stream (RST_STREAM). */
  reset(status: number = RstStatus.Cancel): void {
    this.connection.sendReset(this, status);
    this.destroy();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.connection.writeData(this, chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.connection.writeFin(this);
    cb();
  }

  override _read(): void {
    this.connection.streamRead(this);
  }

  // Node calls _read only once until the next push, so consumption is tracked on every read() (flowing mode
  // reads through it too) to give window back to the peer and to resume a paused socket.
  override read(size?: number): any {
    const chunk: unknown = super.read(size);
    this.connection.streamRead(this);
    return chunk;
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.connection.streamDestroyed(this);
    cb(err);
  }
}

interface OutItem {
  buf: Buffer[] | undefined;
}

export interface SpdyConnectionEvents {
  /** The peer opened a stream; call `stream.reply()` or `stream.reset()`. */
  stream: [stream: SpdyStream];
  /** The peer sent GOAWAY. */
  goaway: [lastGoodStreamId: number, status: number];
  /** The connection is gone; `err` when it ended because of one (protocol error, socket error, idle timeout). */
  close: [err: Error | undefined];
}

export class SpdyConnection extends EventEmitter<SpdyConnectionEvents> {
  readonly streams = new Map<number, SpdyStream>();
  closed = false;
  private readonly isServer: boolean;
  private readonly initialWindow: number;
  private readonly maxBuffered: number;
  private readonly maxFrameSize: number;
  private readonly idleTimeoutMs: number;
  private readonly closeTimeoutMs: number;
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private nextStreamId: number;
  private nextPingId: number;
  private lastPeerStreamId = 0;
  private readonly pings = new Map<number, () => void>();
  private readonly replyWaiters = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  /** The peer announced SPDY/3.1 windows; then ours are enforced on send and we send WINDOW_UPDATEs. */
  private peerFlowControl = false;
  private peerInitialWindow = DEFAULT_WINDOW;
  private settingsSent = false;
  private goneAway = false;
  private peerGoneAway = false;
  private sessionUnacked = 0;
  private readonly input = new ByteQueue();
  private pumping = false;
  private readonly blockers = new Set<SpdyStream>();
  private readonly outQueue: OutItem[] = [];
  private drainWaiters: (() => void)[] = [];
  private idleTimer: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: Duplex,
    options: SpdyConnectionOptions
  ) {
    super();
    this.isServer = options.isServer;
    this.nextStreamId = this.isServer ? 2 : 1;
    this.nextPingId = this.isServer ? 2 : 1;
    this.initialWindow = options.initialWindowSize ?? 256 * 1024;
    this.maxBuffered = Math.max(options.maxBufferedPerStream ?? 1024 * 1024, this.initialWindow);
    this.maxFrameSize = Math.min(options.maxFrameSize ?? MAX_FRAME_LENGTH, MAX_FRAME_LENGTH);
    this.idleTimeoutMs = options.idleTimeoutMs ?? 0;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 30_000;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onSocketEnd());
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
    socket.on('drain', () => this.onDrain());
    this.touch();
    // The opening side announces flow control; Go never opens connections to us with SETTINGS, so it never
    // receives an unsolicited one from the accepting side.
    if (!this.isServer) this.sendSettings();
    if (options.head?.length) this.onData(options.head);
  }

  /** Opens a stream and resolves once the peer replied (kubectl waits likewise before opening the next one). */
  openStream(headers: SpdyHeaders, options: OpenStreamOptions = {}): Promise<SpdyStream> {
    if (this.closed || this.goneAway || this.peerGoneAway) {
      return Promise.reject(new Error('SPDY connection is closing: cannot open a stream'));
    }
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = this.newStream(id, headers);
    const flags = options.fin ? Flag.Fin : 0;
    if (options.fin) stream.localEnded = true;
    this.queueHeaderFrame(headers, (headerBlock) => ({
      type: 'syn_stream',
      streamId: id,
      associatedId: 0,
      priority: 0,
      slot: 0,
      flags,
      headerBlock,
    }));
    return new Promise<SpdyStream>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.replyWaiters.delete(id);
        stream.reset();
        reject(new Error(`timed out waiting for SPDY reply to stream ${id}`));
      }, options.timeoutMs ?? 30_000);
      this.replyWaiters.set(id, {
        resolve: () => {
          clearTimeout(timer);
          resolve(stream);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  /** Sends a PING and resolves with the round-trip time in ms. */
  ping(timeoutMs = 30_000): Promise<number> {
    if (this.closed) return Promise.reject(new Error('SPDY connection is closed'));
    const id = this.nextPingId;
    this.nextPingId = (this.nextPingId + 2) >>> 0;
    const start = performance.now();
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pings.delete(id);
        reject(new Error('SPDY ping timed out'));
      }, timeoutMs);
      this.pings.set(id, () => {
        clearTimeout(timer);
        resolve(performance.now() - start);
      });
      this.writeFrame({ type: 'ping', id });
    });
  }

  /** Sends GOAWAY: no new streams either way; streams already open go on. */
  goAway(status: number = GoAwayStatus.Ok): void {
    if (this.closed || this.goneAway) return;
    this.goneAway = true;
    this.writeFrame({ type: 'goaway', lastGoodStreamId: this.lastPeerStreamId, status });
  }

  /**
   * Ends gracefully: GOAWAY, then FIN on the socket once everything queued is written. The socket is destroyed
   * when the peer closes its side, or after `closeTimeoutMs`.
   */
  close(): void {
    if (this.closed) return;
    this.goAway();
    this.whenFlushed(() => {
      if (this.closed) return;
      this.socket.end();
      this.closeTimer ??= setTimeout(() => this.destroy(), this.closeTimeoutMs);
      this.closeTimer.unref?.();
    });
  }

  /** Ends at once: the socket and every stream are destroyed. */
  destroy(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.closeTimer);
    this.compressor.close();
    this.decompressor.close();
    for (const w of this.replyWaiters.values()) w.reject(err ?? new Error('SPDY connection closed'));
    this.replyWaiters.clear();
    this.pings.clear();
    for (const s of [...this.streams.values()]) s.destroy();
    this.streams.clear();
    this.outQueue.length = 0;
    this.input.clear();
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
    this.socket.destroy();
    this.emit('close', err);
  }

  // --- used by SpdyStream ---

  /** @internal */
  sendReply(stream: SpdyStream, headers: SpdyHeaders): void {
    if (stream.replied || this.closed) return;
    stream.replied = true;
    this.queueHeaderFrame(headers, (headerBlock) => ({
      type: 'syn_reply',
      streamId: stream.id,
      flags: 0,
      headerBlock,
    }));
  }

  /** @internal */
  sendReset(stream: SpdyStream, status: number): void {
    if (stream.resetStatus !== undefined || this.closed) return;
    stream.resetStatus = status;
    this.writeFrame({ type: 'rst_stream', streamId: stream.id, status });
    this.forget(stream);
  }

  /** @internal */
  writeData(stream: SpdyStream, chunk: Buffer, cb: (err?: Error | null) => void): void {
    let off = 0;
    const step = (): void => {
      stream.windowWaiter = undefined;
      // Writes to a stream the peer reset, or on a closed connection, go nowhere (spdystream drops them too).
      if (this.closed || stream.resetStatus !== undefined) return cb();
      while (off < chunk.length) {
        let n = Math.min(chunk.length - off, MAX_DATA_PAYLOAD);
        if (this.peerFlowControl) {
          if (stream.sendWindow <= 0) {
            stream.windowWaiter = step;
            return;
          }
          n = Math.min(n, stream.sendWindow);
        }
        stream.sendWindow -= n;
        this.writeRaw([dataFrameHeader(stream.id, 0, n), chunk.subarray(off, off + n)]);
        off += n;
      }
      if (this.socket.writableNeedDrain || this.outQueue.length > 0) this.drainWaiters.push(() => cb());
      else cb();
    };
    step();
  }

  /** @internal */
  writeFin(stream: SpdyStream): void {
    if (stream.localEnded || stream.resetStatus !== undefined || this.closed) return;
    stream.localEnded = true;
    this.writeRaw([dataFrameHeader(stream.id, Flag.Fin, 0)]);
    if (stream.remoteEnded) this.forget(stream);
  }

  /** @internal The stream's reader wants more: grant window back and resume reading if it was blocking. */
  streamRead(stream: SpdyStream): void {
    const consumed = stream.received - stream.readableLength;
    const delta = consumed - stream.acknowledged;
    // Grant in halves of the window, or whatever was read once the peer's window runs low (else a reader that
    // takes a little at a time would wait for data the peer may not send).
    const peerLeft = this.initialWindow - (stream.received - stream.acknowledged);
    const half = this.initialWindow / 2;
    if (this.peerFlowControl && !stream.remoteEnded && delta > 0 && (delta >= half || peerLeft < half)) {
      stream.acknowledged = consumed;
      this.writeFrame({ type: 'window_update', streamId: stream.id, delta });
    }
    if (this.blockers.delete(stream) && this.blockers.size === 0) this.resumeReading();
  }

  /** @internal */
  streamDestroyed(stream: SpdyStream): void {
    if (!this.closed && this.streams.get(stream.id) === stream) {
      if (!(stream.localEnded && stream.remoteEnded)) this.sendReset(stream, RstStatus.Cancel);
      this.forget(stream);
    }
    stream.windowWaiter = undefined;
    if (this.blockers.delete(stream) && this.blockers.size === 0) this.resumeReading();
  }

  // --- internals ---

  private newStream(id: number, headers: SpdyHeaders): SpdyStream {
    const stream = new SpdyStream(this, id, headers, this.peerInitialWindow, this.initialWindow);
    this.streams.set(id, stream);
    return stream;
  }

  private forget(stream: SpdyStream): void {
    if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
    this.replyWaiters.get(stream.id)?.reject(new Error(`SPDY stream ${stream.id} was reset`));
    this.replyWaiters.delete(stream.id);
    if ((this.goneAway || this.peerGoneAway) && this.streams.size === 0) this.close();
  }

  private sendSettings(): void {
    if (this.settingsSent) return;
    this.settingsSent = true;
    this.writeFrame({
      type: 'settings',
      flags: 0,
      settings: [{ id: SettingId.InitialWindowSize, flags: 0, value: this.initialWindow }],
    });
  }

  private touch(): void {
    if (this.idleTimeoutMs <= 0 || this.closed) return;
    if (this.idleTimer) this.idleTimer.refresh();
    else {
      this.idleTimer = setTimeout(() => {
        this.goAway();
        this.destroy(new Error(`SPDY connection idle for ${this.idleTimeoutMs} ms`));
      }, this.idleTimeoutMs);
      this.idleTimer.unref?.();
    }
  }

  private writeFrame(frame: Frame): void {
    this.writeRaw([encodeFrame(frame)]);
  }

  /** Writes in call order; while a header block is being compressed, later frames queue behind it. */
  private writeRaw(bufs: Buffer[]): void {
    if (this.closed) return;
    this.touch();
    if (this.outQueue.length > 0) {
      this.outQueue.push({ buf: bufs });
      return;
    }
    this.socketWrite(bufs);
  }

  private socketWrite(bufs: Buffer[]): void {
    if (bufs.length === 1) this.socket.write(bufs[0]);
    else {
      this.socket.cork();
      for (const b of bufs) this.socket.write(b);
      this.socket.uncork();
    }
  }

  private queueHeaderFrame(headers: SpdyHeaders, build: (headerBlock: Buffer) => Frame): void {
    const item: OutItem = { buf: undefined };
    this.outQueue.push(item);
    this.compressor.compress(headers).then(
      (block) => {
        if (this.closed) return;
        item.buf = [encodeFrame(build(block))];
        this.flushQueue();
      },
      (err: Error) => this.destroy(err)
    );
  }

  private flushQueue(): void {
    while (this.outQueue.length > 0 && this.outQueue[0]!.buf) {
      this.touch();
      this.socketWrite(this.outQueue.shift()!.buf!);
    }
    if (this.outQueue.length === 0 && !this.socket.writableNeedDrain) this.onDrain();
  }

  private whenFlushed(fn: () => void): void {
    if (this.outQueue.length === 0 && !this.socket.writableNeedDrain) fn();
    else this.drainWaiters.push(fn);
  }

  private onDrain(): void {
    if (this.outQueue.length > 0 || this.socket.writableNeedDrain) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.input.push(chunk);
    void this.pump();
  }

  private onSocketEnd(): void {
    // The peer closed its side: nothing more will arrive on any stream.
    for (const s of [...this.streams.values()]) {
      if (!s.remoteEnded) {
        s.remoteEnded = true;
        s.push(null);
      }
    }
    this.whenFlushed(() => {
      if (!this.closed) this.socket.end();
      this.destroy();
    });
  }

  private resumeReading(): void {
    if (this.closed) return;
    this.socket.resume();
    void this.pump();
  }

  private peekLength(): number | undefined {
    if (this.input.length < FRAME_HEADER_SIZE) return undefined;
    return this.input.peek(FRAME_HEADER_SIZE).readUInt32BE(4) & 0xffffff;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.closed && this.blockers.size === 0) {
        const length = this.peekLength();
        if (length === undefined) break;
        if (length > this.maxFrameSize) {
          throw new SpdyProtocolError(`frame of ${length} bytes exceeds the limit of ${this.maxFrameSize}`);
        }
        if (this.input.length < FRAME_HEADER_SIZE + length) {
          // Bound what a slow header inflate or a huge frame can make us hold.
          break;
        }
        const frame = decodeFrame(this.input.take(FRAME_HEADER_SIZE + length));
        this.touch();
        const pending = this.handleFrame(frame);
        if (pending) {
          if (this.input.length > this.maxFrameSize) this.socket.pause();
          await pending;
          if (this.blockers.size === 0 && !this.closed) this.socket.resume();
        }
      }
    } catch (err) {
      this.protocolFailure(err);
    } finally {
      this.pumping = false;
    }
  }

  private protocolFailure(err: unknown): void {
    if (this.closed) return;
    const e = err instanceof Error ? err : new Error(String(err));
    if (e instanceof SpdyProtocolError && !this.goneAway) {
      this.goneAway = true;
      this.socketWrite([
        encodeFrame({ type: 'goaway', lastGoodStreamId: this.lastPeerStreamId, status: GoAwayStatus.ProtocolError }),
      ]);
    }
    this.destroy(e);
  }

  /** Handles one frame; returns a promise only for frames whose header block must be inflated first. */
  private handleFrame(frame: Frame): Promise<void> | undefined {
    switch (frame.type) {
      case 'data':
        this.onDataFrame(frame.streamId, frame.flags, frame.data);
        return undefined;
      case 'syn_stream':
        return this.decompressor.decompress(frame.headerBlock).then((headers) => this.onSynStream(frame, headers));
      case 'syn_reply':
        return this.decompressor.decompress(frame.headerBlock).then(() => this.onSynReply(frame.streamId, frame.flags));
      case 'headers':
        // Unused by Kubernetes, but the block must still go through the inflater to keep it in step.
        return this.decompressor.decompress(frame.headerBlock).then(() => {
          if (frame.flags & Flag.Fin) this.remoteFin(this.streams.get(frame.streamId));
        });
      case 'rst_stream':
        this.onReset(frame.streamId, frame.status);
        return undefined;
      case 'settings':
        for (const s of frame.settings) {
          if (s.id !== SettingId.InitialWindowSize) continue;
          const delta = s.value - this.peerInitialWindow;
          this.peerInitialWindow = s.value;
          this.peerFlowControl = true;
          for (const st of this.streams.values()) {
            st.sendWindow += delta;
            st.windowWaiter?.();
          }
        }
        if (this.peerFlowControl) this.sendSettings();
        return undefined;
      case 'ping':
        if (frame.id % 2 === this.nextPingId % 2) {
          const done = this.pings.get(frame.id);
          this.pings.delete(frame.id);
          done?.();
        } else this.writeFrame({ type: 'ping', id: frame.id });
        return undefined;
      case 'goaway':
        this.peerGoneAway = true;
        for (const [id, w] of this.replyWaiters) {
          if (id > frame.lastGoodStreamId) w.reject(new Error('SPDY peer sent GOAWAY'));
        }
        this.emit('goaway', frame.lastGoodStreamId, frame.status);
        if (this.streams.size === 0) this.close();
        return undefined;
      case 'window_update': {
        const st = this.streams.get(frame.streamId);
        if (st) {
          st.sendWindow += frame.delta;
          st.windowWaiter?.();
        }
        return undefined;
      }
      case 'unknown':
        return undefined;
    }
  }

  private onSynStream(frame: Extract<Frame, { type: 'syn_stream' }>, headers: SpdyHeaders): void {
    if (this.closed) return;
    const id = frame.streamId;
    if (id % 2 === this.nextStreamId % 2)
      throw new SpdyProtocolError(`peer opened stream ${id} with this end's parity`);
    if (id <= this.lastPeerStreamId) {
      // spdystream answers a stream id that does not increase with RST PROTOCOL_ERROR.
      this.writeFrame({ type: 'rst_stream', streamId: id, status: RstStatus.ProtocolError });
      return;
    }
    this.lastPeerStreamId = id;
    if (this.goneAway || this.listenerCount('stream') === 0) {
      this.writeFrame({ type: 'rst_stream', streamId: id, status: RstStatus.RefusedStream });
      return;
    }
    const stream = this.newStream(id, headers);
    if (frame.flags & Flag.Unidirectional) stream.localEnded = true;
    if (frame.flags & Flag.Fin) this.remoteFin(stream);
    this.emit('stream', stream);
  }

  private onSynReply(id: number, flags: number): void {
    const stream = this.streams.get(id);
    if (!stream || stream.replied) return;
    stream.replied = true;
    const waiter = this.replyWaiters.get(id);
    this.replyWaiters.delete(id);
    if (flags & Flag.Fin) this.remoteFin(stream);
    waiter?.resolve();
  }

  private onDataFrame(id: number, flags: number, data: Buffer): void {
    this.sessionUnacked += data.length;
    if (this.peerFlowControl && this.sessionUnacked >= this.initialWindow / 2) {
      // The session window is not used to hold data back (per-stream windows do that); keep it open.
      this.writeFrame({ type: 'window_update', streamId: 0, delta: this.sessionUnacked });
      this.sessionUnacked = 0;
    }
    const stream = this.streams.get(id);
    // DATA for a stream this end does not know (or already reset) is dropped, as spdystream does.
    if (!stream || stream.resetStatus !== undefined) return;
    if (stream.remoteEnded) {
      this.sendReset(stream, RstStatus.StreamAlreadyClosed);
      stream.destroy();
      return;
    }
    if (data.length > 0) {
      stream.received += data.length;
      stream.push(data);
      if (stream.readableLength > this.maxBuffered) {
        this.blockers.add(stream);
        this.socket.pause();
      }
    }
    if (flags & Flag.Fin) this.remoteFin(stream);
  }

  private remoteFin(stream: SpdyStream | undefined): void {
    if (!stream || stream.remoteEnded) return;
    stream.remoteEnded = true;
    stream.push(null);
    if (stream.localEnded) this.forget(stream);
  }

  private onReset(id: number, status: number): void {
    const stream = this.streams.get(id);
    if (!stream) return;
    stream.resetStatus = status;
    this.forget(stream);
    // What arrived before the reset stays readable, then EOF; writes from now on are dropped.
    if (!stream.remoteEnded) {
      stream.remoteEnded = true;
      stream.push(null);
    }
    stream.localEnded = true;
    stream.windowWaiter?.();
    stream.emit('reset', status);
  }
}

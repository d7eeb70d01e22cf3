// The server side of exec/attach over SPDY (streaming.md §4.4) and WebSocket (§3): accept the upgrade, wait for
// the client's streams, and hand the caller one session — stdin to read, stdout/stderr to write, resize events —
// that `end(status)` finishes the way kubectl expects: stdout/stderr closed, the Status on the error channel, then
// (WebSocket) a Close 1000, or (SPDY) the error stream's FIN, leaving the teardown to the client so nothing
// still in flight is cut off.
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { Readable, Writable, type Duplex } from 'node:stream';
import type { Status } from 'kubernetes-types/meta/v1.js';
import type { WebSocket } from 'ws';
import { newBadRequest } from '../../api/errors.js';
import type { SpdyConnection, SpdyStream } from '../spdy/connection.js';
import { RstStatus } from '../spdy/frames.js';
import { RemoteCommandProtocol, handleSpdyUpgrade, rejectUpgrade, upgradeKind } from '../upgrade.js';
import { acceptWebSocket, channelCodec, sendChannel, watchIdle, type ChannelCodec } from '../websocket.js';
import type { RemoteCommandOptions } from './options.js';
import { ResizeDecoder, type TerminalSize } from './resize.js';
import { encodeErrorChannel, successStatus } from './status.js';

export type { TerminalSize } from './resize.js';

/** SPDY exec/attach protocols the server speaks; v5 is not one on SPDY (real kubelets answer v4, §4.1). */
export const SPDY_REMOTE_COMMAND_PROTOCOLS: readonly string[] = [
  RemoteCommandProtocol.V4,
  RemoteCommandProtocol.V3,
  RemoteCommandProtocol.V2,
  RemoteCommandProtocol.V1,
];

/** WebSocket exec/attach subprotocols; `''` (none offered) means channel.k8s.io framing. */
export const WEBSOCKET_REMOTE_COMMAND_PROTOCOLS: readonly string[] = [
  RemoteCommandProtocol.V5,
  RemoteCommandProtocol.V4,
  RemoteCommandProtocol.V4Base64,
  RemoteCommandProtocol.Base64,
  RemoteCommandProtocol.V1,
  '',
];

/** Channel numbers of the channel.k8s.io family. */
export const Channel = { Stdin: 0, Stdout: 1, Stderr: 2, Error: 3, Resize: 4, Close: 255 } as const;

export interface RemoteCommandServerOptions {
  /** Close a session after this long with no traffic (the kubelet's streaming-connection-idle-timeout). */
  idleTimeoutMs?: number;
  /** How long a SPDY client may take to open all its streams. @default 30000 (upstream) */
  streamCreationTimeoutMs?: number;
  /** How long to wait, after the Status, for the client to close the connection. @default 60000 */
  lingerMs?: number;
}

export interface RemoteCommandSessionEvents {
  /** A terminal size from the client (TTY sessions). */
  resize: [size: TerminalSize];
  /** The connection is gone: after `end()`, or because the client left first. */
  close: [];
}

/** One exec/attach session, whatever the transport. */
export abstract class RemoteCommandSession extends EventEmitter<RemoteCommandSessionEvents> {
  abstract readonly transport: 'spdy' | 'websocket';
  /** The last size the client sent. */
  terminalSize: TerminalSize | undefined;
  closed = false;
  protected ended = false;

  constructor(
    readonly protocol: string,
    readonly options: RemoteCommandOptions
  ) {
    super();
  }

  abstract readonly stdin: Readable | null;
  abstract readonly stdout: Writable | null;
  abstract readonly stderr: Writable | null;

  /**
   * Finishes the session: ends stdout/stderr (after what was written), sends `status` on the error channel
   * (default success; see status.ts for exit codes) and closes. Resolves once the Status is handed over.
   */
  abstract end(status?: Status): Promise<void>;

  /** Drops the connection at once (e.g. the process could not be started and nothing can be reported). */
  abstract destroy(): void;

  protected resized(size: TerminalSize): void {
    this.terminalSize = size;
    this.emit('resize', size);
  }

  protected gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}

/** Waits until a writable has flushed its end (or is gone). */
function finished(w: Writable | null): Promise<void> {
  if (!w || w.writableFinished || w.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    w.once('finish', resolve);
    w.once('close', resolve);
    if (!w.writableEnded) w.end();
  });
}

class SpdyRemoteCommandSession extends RemoteCommandSession {
  readonly transport = 'spdy';
  readonly stdin: Readable | null;
  readonly stdout: Writable | null;
  readonly stderr: Writable | null;

  constructor(
    protocol: string,
    options: RemoteCommandOptions,
    private readonly conn: SpdyConnection,
    private readonly streams: Map<string, SpdyStream>,
    private readonly lingerMs: number
  ) {
    super(protocol, options);
    this.stdin = streams.get('stdin') ?? null;
    this.stdout = streams.get('stdout') ?? null;
    this.stderr = streams.get('stderr') ?? null;
    // The client writes nothing on the error stream; read it so its FIN is seen.
    streams.get('error')?.resume();
    const resize = streams.get('resize');
    if (resize) {
      const decoder = new ResizeDecoder((size) => this.resized(size));
      resize.on('data', (chunk: Buffer) => decoder.write(chunk));
    }
    conn.once('close', () => this.gone());
    if (conn.closed) this.gone();
  }

  async end(status: Status = successStatus()): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await Promise.all([finished(this.stdout), finished(this.stderr)]);
    const error = this.streams.get('error');
    if (error && !error.destroyed) {
      const payload = encodeErrorChannel(status, this.protocol);
      if (payload) error.write(payload);
      await finished(error);
    }
    this.streams.get('stdin')?.end();
    this.streams.get('resize')?.end();
    // kubectl tears the connection down once it has read the error stream; closing first could lose data still
    // queued in its frame workers, so wait for it, up to lingerMs.
    const timer = setTimeout(() => this.conn.destroy(), this.lingerMs);
    timer.unref?.();
    this.conn.once('close', () => clearTimeout(timer));
  }

  destroy(): void {
    this.conn.destroy();
  }
}

function spdySession(
  conn: SpdyConnection,
  protocol: string,
  options: RemoteCommandOptions,
  server: RemoteCommandServerOptions
): Promise<RemoteCommandSession | undefined> {
  const withResize = options.tty && protocol !== RemoteCommandProtocol.V1 && protocol !== RemoteCommandProtocol.V2;
  const expected = new Set<string>(['error']);
  if (options.stdin) expected.add('stdin');
  if (options.stdout) expected.add('stdout');
  if (options.stderr) expected.add('stderr');
  if (withResize) expected.add('resize');
  const streams = new Map<string, SpdyStream>();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      conn.destroy(new Error('timed out waiting for client to create streams'));
    }, server.streamCreationTimeoutMs ?? 30_000);
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(undefined);
    };
    conn.once('close', onClose);
    const onStream = (stream: SpdyStream): void => {
      const type = stream.headers.streamtype ?? '';
      if (!expected.has(type) || streams.has(type)) {
        stream.reset(RstStatus.RefusedStream);
        return;
      }
      stream.reply();
      streams.set(type, stream);
      if (streams.size < expected.size) return;
      clearTimeout(timer);
      conn.off('close', onClose);
      conn.off('stream', onStream);
      // Later streams (none are expected) are refused.
      conn.on('stream', (s) => s.reset(RstStatus.RefusedStream));
      resolve(new SpdyRemoteCommandSession(protocol, options, conn, streams, server.lingerMs ?? 60_000));
    };
    conn.on('stream', onStream);
  });
}

class WebSocketRemoteCommandSession extends RemoteCommandSession {
  readonly transport = 'websocket';
  readonly stdin: Readable | null;
  readonly stdout: Writable | null;
  readonly stderr: Writable | null;
  private readonly codec: ChannelCodec;

  constructor(
    protocol: string,
    options: RemoteCommandOptions,
    private readonly ws: WebSocket
  ) {
    super(protocol, options);
    this.codec = channelCodec(protocol.includes('base64'));
    const stdin = options.stdin
      ? new Readable({
          read: () => {
            if (ws.isPaused) ws.resume();
          },
        })
      : null;
    this.stdin = stdin;
    this.stdout = options.stdout ? this.channelWriter(Channel.Stdout) : null;
    this.stderr = options.stderr ? this.channelWriter(Channel.Stderr) : null;
    const decoder = new ResizeDecoder((size) => this.resized(size));
    const v5 = protocol === RemoteCommandProtocol.V5;
    ws.on('message', (data: Buffer, isBinary) => {
      const msg = this.codec.decode(data, isBinary);
      if (!msg || this.ended) return;
      if (msg.channel === Channel.Stdin && stdin && !stdin.readableEnded) {
        if (msg.data.length > 0 && !stdin.push(msg.data)) ws.pause();
      } else if (msg.channel === Channel.Resize && options.tty) {
        decoder.write(msg.data);
      } else if (v5 && msg.channel === Channel.Close && msg.data[0] === Channel.Stdin) {
        stdin?.push(null);
      }
    });
    ws.once('close', () => {
      if (stdin && !stdin.readableEnded) stdin.push(null);
      this.gone();
    });
    ws.on('error', () => ws.terminate());
    // The kubelet's "connected" signal for v1–v4 clients: an empty message on the lowest writable channel. Not on
    // v5: kubectl 1.30+ starts reading before it has set up its streams and logs "Unknown stream id 1, discarding
    // message" when the signal is early; upstream's v5 clients never get it (the API server translates to SPDY).
    if (v5) return;
    const first = options.stdout ? Channel.Stdout : options.stderr ? Channel.Stderr : Channel.Error;
    sendChannel(ws, this.codec, first, Buffer.alloc(0));
  }

  private channelWriter(channel: number): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => sendChannel(this.ws, this.codec, channel, chunk, () => cb()),
    });
  }

  async end(status: Status = successStatus()): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await Promise.all([finished(this.stdout), finished(this.stderr)]);
    const payload = encodeErrorChannel(status, this.protocol);
    if (payload)
      await new Promise<void>((resolve) => sendChannel(this.ws, this.codec, Channel.Error, payload, resolve));
    // A normal closure is what kubectl reads as EOF; `ws` then waits for the client's Close before closing TCP.
    this.ws.close(1000);
  }

  destroy(): void {
    this.ws.terminate();
  }
}

/**
 * Accepts an exec/attach upgrade (SPDY or WebSocket) for a Node server's `'upgrade'` event. Resolves undefined when
 * the request was refused (the response is written) or the client left before the session started.
 */
export async function acceptRemoteCommand(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  options: RemoteCommandOptions,
  server: RemoteCommandServerOptions = {}
): Promise<RemoteCommandSession | undefined> {
  const kind = upgradeKind(req);
  if (kind === 'spdy') {
    const accepted = handleSpdyUpgrade(req, socket, head, SPDY_REMOTE_COMMAND_PROTOCOLS, {
      idleTimeoutMs: server.idleTimeoutMs,
    });
    return accepted && spdySession(accepted.connection, accepted.protocol, options, server);
  }
  if (kind === 'websocket') {
    const accepted = await acceptWebSocket(req, socket, head, WEBSOCKET_REMOTE_COMMAND_PROTOCOLS);
    if (!accepted) return undefined;
    watchIdle(accepted.ws, server.idleTimeoutMs ?? 0);
    return new WebSocketRemoteCommandSession(accepted.protocol, options, accepted.ws);
  }
  rejectUpgrade(socket, newBadRequest('Upgrade request required'));
  return undefined;
}

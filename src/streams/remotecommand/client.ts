// The client side of exec/attach, as client-go's executors drive it: over SPDY open error, stdin, stdout, stderr,
// resize in that order, each after the previous reply (§4.4); over WebSocket frame channels and half-close stdin
// with `ff 00` (v5). The API server uses it toward the kubelet; `bridgeRemoteCommand` joins it to a server session
// so whatever kubectl speaks reaches a kubelet in the protocol chosen for that hop.
import { Readable, Writable } from 'node:stream';
import type { Status } from 'kubernetes-types/meta/v1.js';
import type { WebSocket } from 'ws';
import type { SpdyConnection, SpdyStream } from '../spdy/connection.js';
import { RemoteCommandProtocol } from '../upgrade.js';
import { channelCodec, sendChannel } from '../websocket.js';
import type { RemoteCommandOptions } from './options.js';
import { encodeTerminalSize, type TerminalSize } from './resize.js';
import { Channel, type RemoteCommandSession } from './server.js';
import { decodeErrorChannel } from './status.js';

/** The protocols a client offers, newest first (client-go offers the same on SPDY). */
export const CLIENT_REMOTE_COMMAND_PROTOCOLS: readonly string[] = [
  RemoteCommandProtocol.V5,
  RemoteCommandProtocol.V4,
  RemoteCommandProtocol.V3,
  RemoteCommandProtocol.V2,
  RemoteCommandProtocol.V1,
];

export interface RemoteCommandClient {
  readonly protocol: string;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  resize(size: TerminalSize): void;
  /**
   * The session's result: the error channel's Status (success when empty), once stdout, stderr and the error
   * channel have ended — so stdout and stderr must be read. A connection lost first gives a Failure Status.
   */
  readonly status: Promise<Status>;
  close(): void;
}

function ended(r: Readable | null): Promise<void> {
  if (!r || r.readableEnded || r.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    r.once('end', resolve);
    r.once('close', resolve);
  });
}

function lost(message: string): Status {
  return { metadata: {}, status: 'Failure', reason: 'InternalError', code: 500, message };
}

/** Opens the exec/attach streams on a SPDY connection (the server's reply header picked `protocol`). */
export async function spdyRemoteCommandClient(
  conn: SpdyConnection,
  protocol: string,
  options: RemoteCommandOptions
): Promise<RemoteCommandClient> {
  // SPDY v5 is v4 on the wire; before v3 there is no resize stream.
  const v = protocol === RemoteCommandProtocol.V5 ? RemoteCommandProtocol.V4 : protocol;
  const open = (streamtype: string): Promise<SpdyStream> => conn.openStream({ streamtype });
  const error = await open('error');
  error.end();
  const stdin = options.stdin ? await open('stdin') : null;
  const stdout = options.stdout ? await open('stdout') : null;
  const stderr = options.stderr && !options.tty ? await open('stderr') : null;
  const withResize = options.tty && v !== RemoteCommandProtocol.V1 && v !== RemoteCommandProtocol.V2;
  const resize = withResize ? await open('resize') : null;
  stdout?.end();
  stderr?.end();
  const chunks: Buffer[] = [];
  error.on('data', (c: Buffer) => chunks.push(c));
  let closedEarly = false;
  conn.once('close', () => (closedEarly = true));
  const status = Promise.all([ended(error), ended(stdout), ended(stderr)]).then(() =>
    closedEarly && chunks.length === 0 && !error.readableEnded
      ? lost('connection to the container runtime was lost')
      : decodeErrorChannel(Buffer.concat(chunks), v)
  );
  return {
    protocol: v,
    stdin,
    stdout,
    stderr,
    resize: (size) => void resize?.write(encodeTerminalSize(size)),
    status,
    close: () => conn.close(),
  };
}

/** Drives exec/attach over an open WebSocket in the channel.k8s.io framing of `protocol`. */
export function webSocketRemoteCommandClient(
  ws: WebSocket,
  protocol: string,
  options: RemoteCommandOptions
): RemoteCommandClient {
  const codec = channelCodec(protocol.includes('base64'));
  const reader = (): Readable => new Readable({ read: () => ws.isPaused && ws.resume() });
  const stdout = options.stdout ? reader() : null;
  const stderr = options.stderr && !options.tty ? reader() : null;
  const stdin = options.stdin
    ? new Writable({
        write: (chunk: Buffer, _enc, cb) => sendChannel(ws, codec, Channel.Stdin, chunk, () => cb()),
        final: (cb) => {
          // Only v5 can say "no more stdin" without closing the connection.
          if (protocol === RemoteCommandProtocol.V5)
            sendChannel(ws, codec, Channel.Close, Buffer.from([Channel.Stdin]));
          cb();
        },
      })
    : null;
  const errorChunks: Buffer[] = [];
  ws.on('message', (data: Buffer, isBinary) => {
    const msg = codec.decode(data, isBinary);
    if (!msg || msg.data.length === 0) return;
    const target = msg.channel === Channel.Stdout ? stdout : msg.channel === Channel.Stderr ? stderr : null;
    if (target) {
      if (!target.push(msg.data)) ws.pause();
    } else if (msg.channel === Channel.Error) errorChunks.push(msg.data);
  });
  ws.on('error', () => ws.terminate());
  ws.resume(); // dialWebSocket hands it over paused
  const status = new Promise<Status>((resolve) => {
    ws.once('close', (code) => {
      stdout?.push(null);
      stderr?.push(null);
      const errorData = Buffer.concat(errorChunks);
      resolve(
        code !== 1000 && errorData.length === 0
          ? lost(`websocket closed with code ${code} before the command's status`)
          : decodeErrorChannel(errorData, protocol)
      );
    });
  }).then(async (s) => {
    await Promise.all([ended(stdout), ended(stderr)]);
    return s;
  });
  return {
    protocol,
    stdin,
    stdout,
    stderr,
    resize: (size) => {
      if (options.tty) sendChannel(ws, codec, Channel.Resize, encodeTerminalSize(size));
    },
    status,
    close: () => ws.close(1000),
  };
}

/**
 * Joins a server session (what kubectl opened) to a client (toward the kubelet): stdin, stdout, stderr and
 * resizes flow through, and the kubelet's Status ends the session. Resolves when the session is finished.
 */
export async function bridgeRemoteCommand(session: RemoteCommandSession, client: RemoteCommandClient): Promise<void> {
  if (session.stdin && client.stdin) session.stdin.pipe(client.stdin);
  else client.stdin?.end();
  if (client.stdout) {
    if (session.stdout) client.stdout.pipe(session.stdout);
    else client.stdout.resume();
  }
  if (client.stderr) {
    if (session.stderr) client.stderr.pipe(session.stderr);
    else client.stderr.resume();
  }
  if (session.terminalSize) client.resize(session.terminalSize);
  session.on('resize', (size) => client.resize(size));
  session.once('close', () => client.close());
  const status = await client.status;
  await session.end(status);
  client.close();
}

// The server side of port-forward (streaming.md §5): SPDY `portforward.k8s.io` — per forwarded connection an
// (error, data) stream pair tied by `requestid`, any number of ports and connections on one session — the same
// SPDY carried in WebSocket binary messages (`SPDY/3.1+portforward.k8s.io`, kubectl ≥ 1.31), and the legacy
// WebSocket framing with the ports in the query. The caller supplies `dial(port)`; a failed dial ends only the
// connection that asked for it.
//
// Why a failed dial is not written on the error stream by default: kubectl (≥ 1.23) closes the whole session on
// any error-stream message ("lost connection to pod"), the top upstream complaint issue 6 asks us to avoid. The
// data stream is closed instead, which kubectl turns into closing just that local connection.
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { newBadRequest } from '../../api/errors.js';
import { relay } from '../../lib/relay.js';
import { SpdyConnection, type SpdyStream } from '../spdy/connection.js';
import { RstStatus } from '../spdy/frames.js';
import {
  PORT_FORWARD_PROTOCOL,
  PORT_FORWARD_TUNNEL_PROTOCOL,
  RemoteCommandProtocol,
  handleSpdyUpgrade,
  rejectUpgrade,
  upgradeKind,
} from '../upgrade.js';
import { acceptWebSocket, channelCodec, sendChannel, watchIdle, webSocketDuplex } from '../websocket.js';

/** Connects to `port` in the pod; resolves once connected, rejects (e.g. ECONNREFUSED) otherwise. */
export type PortForwardDialer = (port: number) => Promise<Duplex>;

export interface PortForwardServerOptions {
  dial: PortForwardDialer;
  /** Close a session after this long with no traffic (the kubelet's streaming-connection-idle-timeout). */
  idleTimeoutMs?: number;
  /** How long the second stream of a pair may take. @default 30000 (upstream) */
  streamCreationTimeoutMs?: number;
  /** Told of every failed dial, for the caller's log. */
  onDialError?: (port: number, err: Error) => void;
  /**
   * Write a failed dial's message on the request's error stream as upstream's kubelet does (kubectl then drops
   * the whole session). @default false
   */
  reportDialErrors?: boolean;
  /** Ports for the legacy WebSocket protocol, which carries them in the query (see parsePortForwardPorts). */
  ports?: number[];
}

/** WebSocket subprotocols: the SPDY tunnel first, then the legacy channel framings. */
export const WEBSOCKET_PORT_FORWARD_PROTOCOLS: readonly string[] = [
  PORT_FORWARD_TUNNEL_PROTOCOL,
  RemoteCommandProtocol.V4,
  RemoteCommandProtocol.V4Base64,
  RemoteCommandProtocol.Base64,
  RemoteCommandProtocol.V1,
  '',
];

/** One port-forward session; 'close' when its connection is gone. */
export class PortForwardSession extends EventEmitter<{ close: [] }> {
  closed = false;

  constructor(
    readonly transport: 'spdy' | 'websocket-tunnel' | 'websocket',
    private readonly stop: () => void
  ) {
    super();
  }

  close(): void {
    this.stop();
  }

  /** @internal */
  gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}

function validPort(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,5}$/.test(value)) return undefined;
  const port = Number(value);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/**
 * Ports from a port-forward query: the kubelet's `port=80,443` or the public API's `ports=80&ports=443`.
 * @throws StatusError 400 for a port that is not 1..65535
 */
export function parsePortForwardPorts(query: URLSearchParams): number[] {
  const raw = [...query.getAll('port'), ...query.getAll('ports')].flatMap((v) => v.split(','));
  return raw
    .map((v) => v.trim())
    .filter((v) => v !== '')
    .map((v) => {
      const port = validPort(v);
      if (port === undefined) throw newBadRequest(`invalid port "${v}": must be 1-65535`);
      return port;
    });
}

/** Pipes one (error, data) pair to a dialled connection. */
async function forward(
  error: SpdyStream,
  data: SpdyStream,
  port: number,
  options: PortForwardServerOptions
): Promise<void> {
  let target: Duplex;
  try {
    target = await options.dial(port);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    options.onDialError?.(port, e);
    if (options.reportDialErrors) error.end(`error forwarding port ${port} to pod: ${e.message}`);
    else error.end();
    data.resume();
    data.end();
    return;
  }
  if (data.destroyed) {
    target.destroy();
    return;
  }
  target.on('error', () => target.destroy());
  relay(data, target);
  relay(target, data);
  // The pod side closed: FIN the data stream (pipe does) and the error stream, with nothing on it.
  target.once('close', () => {
    if (!data.writableEnded) data.end();
    error.end();
  });
  // kubectl resets the data stream when its local connection is done, or the session went away.
  data.once('close', () => target.destroy());
}

/** Serves `portforward.k8s.io` on a SPDY connection (direct, or tunnelled in WebSocket). */
export function servePortForward(conn: SpdyConnection, options: PortForwardServerOptions): void {
  const pending = new Map<string, { error?: SpdyStream; data?: SpdyStream; timer: NodeJS.Timeout }>();
  conn.on('stream', (stream) => {
    const type = stream.headers.streamtype;
    const port = validPort(stream.headers.port);
    if ((type !== 'error' && type !== 'data') || port === undefined) {
      stream.reset(RstStatus.ProtocolError);
      return;
    }
    // Clients without `requestid` (before 1.6) open the error stream right before its data stream.
    const requestId = stream.headers.requestid ?? String(type === 'error' ? stream.id : stream.id - 2);
    const key = `${requestId}/${port}`;
    let pair = pending.get(key);
    if (!pair) {
      pair = {
        timer: setTimeout(() => {
          pending.delete(key);
          pair!.error?.end('timed out waiting for streams');
          pair!.data?.reset();
        }, options.streamCreationTimeoutMs ?? 30_000),
      };
      pair.timer.unref?.();
      pending.set(key, pair);
    }
    if (pair[type]) {
      stream.reset(RstStatus.ProtocolError);
      return;
    }
    pair[type] = stream;
    stream.reply();
    if (pair.error && pair.data) {
      clearTimeout(pair.timer);
      pending.delete(key);
      pair.error.resume(); // kubectl half-closes it at once and only reads from it
      void forward(pair.error, pair.data, port, options);
    }
  });
  conn.once('close', () => {
    for (const p of pending.values()) clearTimeout(p.timer);
    pending.clear();
  });
}

/** Legacy WebSocket port-forward (§5.4): per port i, data on channel 2i and errors on 2i+1. */
function serveLegacyWebSocket(
  ws: WebSocket,
  protocol: string,
  ports: number[],
  options: PortForwardServerOptions
): void {
  const codec = channelCodec(protocol.includes('base64'));
  const targets: (Duplex | undefined)[] = [];
  let open = ports.length;
  const done = (): void => {
    if (--open === 0) ws.close(1000);
  };
  ports.forEach((port, i) => {
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    sendChannel(ws, codec, 2 * i, portBytes);
    sendChannel(ws, codec, 2 * i + 1, portBytes);
    options.dial(port).then(
      (target) => {
        if (ws.readyState !== ws.OPEN) {
          target.destroy();
          return;
        }
        targets[i] = target;
        target.on('error', () => target.destroy());
        target.on('data', (chunk: Buffer) => {
          target.pause();
          sendChannel(ws, codec, 2 * i, chunk, () => target.resume());
        });
        target.once('close', done);
      },
      (err: Error) => {
        options.onDialError?.(port, err);
        sendChannel(ws, codec, 2 * i + 1, Buffer.from(`error forwarding port ${port} to pod: ${err.message}`));
        done();
      }
    );
  });
  ws.on('message', (data: Buffer, isBinary) => {
    const msg = codec.decode(data, isBinary);
    if (!msg || msg.channel % 2 !== 0) return;
    targets[msg.channel / 2]?.write(msg.data);
  });
  ws.once('close', () => targets.forEach((t) => t?.destroy()));
}

/**
 * Accepts a port-forward upgrade (SPDY, the WebSocket SPDY tunnel, or legacy WebSocket) for a Node server's
 * `'upgrade'` event. Resolves undefined when the request was refused (the response is written).
 */
export async function acceptPortForward(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  options: PortForwardServerOptions
): Promise<PortForwardSession | undefined> {
  const kind = upgradeKind(req);
  if (kind === 'spdy') {
    const accepted = handleSpdyUpgrade(req, socket, head, [PORT_FORWARD_PROTOCOL], {
      idleTimeoutMs: options.idleTimeoutMs,
    });
    if (!accepted) return undefined;
    return sessionOver(accepted.connection, 'spdy', options);
  }
  if (kind === 'websocket') {
    const accepted = await acceptWebSocket(req, socket, head, WEBSOCKET_PORT_FORWARD_PROTOCOLS);
    if (!accepted) return undefined;
    const { ws, protocol } = accepted;
    if (protocol === PORT_FORWARD_TUNNEL_PROTOCOL) {
      const conn = new SpdyConnection(webSocketDuplex(ws), { isServer: true, idleTimeoutMs: options.idleTimeoutMs });
      return sessionOver(conn, 'websocket-tunnel', options);
    }
    watchIdle(ws, options.idleTimeoutMs ?? 0);
    const session = new PortForwardSession('websocket', () => ws.close(1000));
    ws.once('close', () => session.gone());
    if (!options.ports?.length) {
      // The protocol has no other way to name ports; tell the client on the first error channel and close.
      sendChannel(ws, channelCodec(protocol.includes('base64')), 1, Buffer.from('query parameter "port" is required'));
      ws.close(1000);
      return session;
    }
    serveLegacyWebSocket(ws, protocol, options.ports, options);
    return session;
  }
  rejectUpgrade(socket, newBadRequest('Upgrade request required'));
  return undefined;
}

function sessionOver(
  conn: SpdyConnection,
  transport: 'spdy' | 'websocket-tunnel',
  options: PortForwardServerOptions
): PortForwardSession {
  const session = new PortForwardSession(transport, () => conn.close());
  conn.once('close', () => session.gone());
  servePortForward(conn, options);
  return session;
}

// WebSocket pieces shared by remote command and port-forward (streaming.md §3, §5.3), on the `ws` package:
// subprotocol negotiation (the first client-offered protocol we support; a 400 Status when none fits, so kubectl
// falls back to SPDY), a byte-pipe Duplex over binary messages (the SPDY tunnel), the channel framing of the
// channel.k8s.io family, and an idle timeout. `ws` answers Pings itself (kubectl gives up 61 s after its last Pong).
import type { IncomingMessage } from 'node:http';
import { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { newBadRequest } from '../api/errors.js';
import { headerValues, negotiateProtocol, rejectUpgrade } from './upgrade.js';

/** The largest message accepted from a peer; kubectl's are ≤ 32 KiB, a whole SPDY frame at most 16 MiB. */
const MAX_PAYLOAD = 32 * 1024 * 1024;

// `ws` refuses subprotocols that are not RFC 7230 tokens, and `SPDY/3.1+portforward.k8s.io` has a '/'. So the
// negotiation is done here: the request's header is removed before `ws` sees it and the answer added back.
const chosenProtocol = new WeakMap<IncomingMessage, string>();
const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  maxPayload: MAX_PAYLOAD,
  clientTracking: false,
});
wss.on('headers', (headers, req) => {
  const protocol = chosenProtocol.get(req);
  if (protocol) headers.push(`Sec-WebSocket-Protocol: ${protocol}`);
});

/**
 * Accepts a WebSocket upgrade with the first offered subprotocol in `serverProtocols`. A request offering none
 * gets protocol `''` if `''` is in the list. Otherwise the upgrade is refused with a 400 Status and this resolves
 * undefined.
 */
export function acceptWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  serverProtocols: readonly string[]
): Promise<{ ws: WebSocket; protocol: string } | undefined> {
  const offered = headerValues(req, 'sec-websocket-protocol');
  const protocol =
    offered.length === 0
      ? serverProtocols.includes('')
        ? ''
        : undefined
      : negotiateProtocol(offered, serverProtocols);
  if (protocol === undefined) {
    rejectUpgrade(
      socket,
      newBadRequest(
        `unable to upgrade: no supported WebSocket subprotocol in [${offered.join(' ')}], supported: [${serverProtocols.filter((p) => p).join(' ')}]`
      )
    );
    return Promise.resolve(undefined);
  }
  chosenProtocol.set(req, protocol);
  delete req.headers['sec-websocket-protocol'];
  return new Promise((resolve) => {
    // ws answers a malformed handshake itself (400) and destroys the socket without calling back.
    const onClose = (): void => resolve(undefined);
    socket.once('close', onClose);
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('close', onClose);
      const raw = socket as Duplex & { setNoDelay?: (on: boolean) => void; setTimeout?: (ms: number) => void };
      raw.setTimeout?.(0);
      raw.setNoDelay?.(true);
      resolve({ ws, protocol });
    });
  });
}

// What we send counts as traffic too (upstream's wsstream resets its deadline on writes as well as reads), so a
// session that only prints is not idle.
const sent = new WeakMap<WebSocket, () => void>();

/** Closes `ws` after `ms` without any message (either way), ping or pong; 0 = never. */
export function watchIdle(ws: WebSocket, ms: number): void {
  if (ms <= 0) return;
  const timer = setTimeout(() => ws.terminate(), ms);
  timer.unref?.();
  const touch = (): void => void timer.refresh();
  sent.set(ws, touch);
  ws.on('message', touch);
  ws.on('ping', touch);
  ws.on('pong', touch);
  ws.once('close', () => clearTimeout(timer));
}

/**
 * The WebSocket as a byte stream: binary messages in, writes out as binary messages. Ending the writable side
 * closes the WebSocket with 1000 (kubectl reads only a normal close as EOF); the peer's close ends the readable
 * side. Text messages are a protocol error for the tunnel and close it with 1003.
 */
export function webSocketDuplex(ws: WebSocket): Duplex {
  const duplex = new Duplex({
    read() {
      if (ws.isPaused) ws.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState !== WebSocket.OPEN) return cb();
      sent.get(ws)?.();
      ws.send(chunk, { binary: true }, () => cb());
    },
    // What was written while a send was in flight (or corked: a SPDY frame's header and payload) goes as one
    // message, not one each: a 1-byte port-forward echo otherwise took two messages and ~40 ms per round trip.
    writev(chunks: { chunk: Buffer }[], cb) {
      if (ws.readyState !== WebSocket.OPEN) return cb();
      sent.get(ws)?.();
      ws.send(Buffer.concat(chunks.map((c) => c.chunk)), { binary: true }, () => cb());
    },
    final(cb) {
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      cb();
    },
    destroy(err, cb) {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
      cb(err);
    },
  });
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) {
      ws.close(1003, 'text message in a binary tunnel');
      return;
    }
    if (!duplex.push(data)) ws.pause();
  });
  ws.on('close', () => {
    duplex.push(null);
    // The peer is gone; nothing written from now on can arrive.
    if (!duplex.writableFinished) duplex.destroy();
  });
  ws.on('error', () => duplex.destroy());
  return duplex;
}

/** Channel framing of one channel.k8s.io-family subprotocol: binary `[ch, …data]` or base64 text `'0'+ch …`. */
export interface ChannelCodec {
  readonly base64: boolean;
  encode(channel: number, data: Buffer): Buffer | string;
  /** @returns undefined for a message that is not a frame of this framing (empty, or wrong kind) */
  decode(data: Buffer, isBinary: boolean): { channel: number; data: Buffer } | undefined;
}

export function channelCodec(base64: boolean): ChannelCodec {
  return base64
    ? {
        base64,
        encode: (channel, data) => String.fromCharCode(48 + channel) + data.toString('base64'),
        decode: (data, isBinary) => {
          if (isBinary || data.length === 0) return undefined;
          const text = data.toString('latin1');
          return { channel: text.charCodeAt(0) - 48, data: Buffer.from(text.slice(1), 'base64') };
        },
      }
    : {
        base64,
        encode: (channel, data) => {
          const out = Buffer.allocUnsafe(data.length + 1);
          out[0] = channel;
          data.copy(out, 1);
          return out;
        },
        decode: (data, isBinary) => {
          if (!isBinary || data.length === 0) return undefined;
          return { channel: data[0]!, data: data.subarray(1) };
        },
      };
}

/** Sends one channel frame; `cb` runs once it is handed to the socket (write backpressure). */
export function sendChannel(ws: WebSocket, codec: ChannelCodec, channel: number, data: Buffer, cb?: () => void): void {
  if (ws.readyState !== WebSocket.OPEN) {
    cb?.();
    return;
  }
  const frame = codec.encode(channel, data);
  sent.get(ws)?.();
  ws.send(frame, { binary: !codec.base64 }, () => cb?.());
}

// Server side of the HTTP/1.1 upgrades Kubernetes streams start with (streaming.md §4.1, §3.1): telling SPDY from
// WebSocket, negotiating `X-Stream-Protocol-Version` as Go's `httpstream.Handshake` does, writing the 101 by hand,
// and refusing an upgrade with a `Status` body that kubectl prints (`Error from server (BadRequest): …`).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Status } from 'kubernetes-types/meta/v1.js';
import { StatusError, newBadRequest } from '../api/errors.js';
import { SpdyConnection, type SpdyConnectionOptions } from './spdy/connection.js';

/** Remote command (exec/attach) subprotocols, newest first. */
export const RemoteCommandProtocol = {
  V5: 'v5.channel.k8s.io',
  V4: 'v4.channel.k8s.io',
  V3: 'v3.channel.k8s.io',
  V2: 'v2.channel.k8s.io',
  V1: 'channel.k8s.io',
  V4Base64: 'v4.base64.channel.k8s.io',
  Base64: 'base64.channel.k8s.io',
} as const;

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** The WebSocket subprotocol kubectl ≥ 1.31 tunnels SPDY port-forward in (streaming.md §5.3). */
export const PORT_FORWARD_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

export const HEADER_PROTOCOL_VERSION = 'X-Stream-Protocol-Version';
export const HEADER_ACCEPTED_PROTOCOL_VERSIONS = 'X-Accepted-Stream-Protocol-Versions';

/** What an upgrade request asks for, or undefined for a plain request. */
export function upgradeKind(req: IncomingMessage): 'spdy' | 'websocket' | undefined {
  const connection = (req.headers.connection ?? '').toLowerCase();
  if (!connection.split(',').some((t) => t.trim() === 'upgrade')) return undefined;
  const upgrade = (req.headers.upgrade ?? '').toLowerCase();
  if (upgrade.includes('spdy/3.1')) return 'spdy';
  if (upgrade.split(',').some((t) => t.trim() === 'websocket')) return 'websocket';
  return undefined;
}

/** A header's values: repeated lines (Node joins them with ", ") and comma lists, split and trimmed. */
export function headerValues(req: IncomingMessage, name: string): string[] {
  const raw = req.headers[name.toLowerCase()];
  const joined = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
  return joined
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** The first client-offered protocol the server supports (Go's `negotiateProtocol`). */
export function negotiateProtocol(
  clientProtocols: readonly string[],
  serverProtocols: readonly string[]
): string | undefined {
  return clientProtocols.find((p) => serverProtocols.includes(p));
}

/**
 * Picks the SPDY stream protocol as upstream's `httpstream.Handshake`: no header → 400, no overlap → 403 naming
 * both lists (with `X-Accepted-Stream-Protocol-Versions` headers on the refusal).
 * @throws StatusError
 */
export function negotiateSpdyProtocol(req: IncomingMessage, serverProtocols: readonly string[]): string {
  const offered = headerValues(req, HEADER_PROTOCOL_VERSION);
  if (offered.length === 0) throw newBadRequest(`unable to upgrade: ${HEADER_PROTOCOL_VERSION} is required`);
  const chosen = negotiateProtocol(offered, serverProtocols);
  if (chosen === undefined) {
    throw new StatusError(
      403,
      'Forbidden',
      `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${serverProtocols.join(' ')}]`
    );
  }
  return chosen;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Prepares an upgraded socket for a long-lived stream: no HTTP timeouts, no Nagle delay. */
function prepareSocket(socket: Duplex): void {
  const s = socket as Duplex & { setTimeout?: (ms: number) => void; setNoDelay?: (on: boolean) => void };
  s.setTimeout?.(0);
  s.setNoDelay?.(true);
}

/**
 * Answers an upgrade request with an error instead: an HTTP/1.1 response whose body is the JSON `Status` (or
 * the StatusError's), then closes the socket. Extra headers, e.g. X-Accepted-Stream-Protocol-Versions, may be
 * repeated.
 */
export function rejectUpgrade(socket: Duplex, err: StatusError | Status, headers: [string, string][] = []): void {
  const status = err instanceof StatusError ? err.status : err;
  const code = status.code ?? 500;
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', ...status });
  const lines = [
    `HTTP/1.1 ${code} ${STATUS_TEXT[code] ?? 'Error'}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...headers.map(([k, v]) => `${k}: ${v}`),
  ];
  if (socket.destroyed || !socket.writable) return;
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
  const timer = setTimeout(() => socket.destroy(), 5000);
  timer.unref?.();
  socket.once('close', () => clearTimeout(timer));
  socket.on('error', () => socket.destroy());
}

/** Writes the SPDY 101 on an upgrade request's socket (for a relay; `acceptSpdy` also starts the framer). */
export function writeSpdyUpgradeResponse(socket: Duplex, protocol: string): void {
  prepareSocket(socket);
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
      `${HEADER_PROTOCOL_VERSION}: ${protocol}\r\n\r\n`
  );
}

/** Writes the SPDY 101 and returns the connection over the socket (`head` is fed to it first). */
export function acceptSpdy(
  socket: Duplex,
  head: Buffer,
  protocol: string,
  options: Omit<SpdyConnectionOptions, 'isServer' | 'head'> = {}
): SpdyConnection {
  writeSpdyUpgradeResponse(socket, protocol);
  return new SpdyConnection(socket, { ...options, isServer: true, head });
}

/**
 * Negotiates and accepts a SPDY upgrade, or answers with the negotiation error and returns undefined.
 */
export function handleSpdyUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  serverProtocols: readonly string[],
  options: Omit<SpdyConnectionOptions, 'isServer' | 'head'> = {}
): { connection: SpdyConnection; protocol: string } | undefined {
  let protocol: string;
  try {
    protocol = negotiateSpdyProtocol(req, serverProtocols);
  } catch (err) {
    const headers: [string, string][] =
      err instanceof StatusError && err.code === 403
        ? serverProtocols.map((p) => [HEADER_ACCEPTED_PROTOCOL_VERSIONS, p])
        : [];
    rejectUpgrade(socket, err as StatusError, headers);
    return undefined;
  }
  return { connection: acceptSpdy(socket, head, protocol, options), protocol };
}

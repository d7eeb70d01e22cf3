// The client side of the upgrades, for the API server talking to a kubelet (and for tests): a SPDY/3.1 upgrade
// over HTTP/1.1 as client-go's SPDY round tripper sends it (`POST`, repeated X-Stream-Protocol-Version lines),
// and a WebSocket dial with `ws`. A non-101 answer becomes an UpgradeFailure carrying the peer's Status, which the
// caller relays (kubectl prints its message). `createConnection` lets an egress dialer supply the socket.
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import type { Status } from 'kubernetes-types/meta/v1.js';
import { WebSocket } from 'ws';
import { SpdyConnection, type SpdyConnectionOptions } from './spdy/connection.js';
import { HEADER_PROTOCOL_VERSION } from './upgrade.js';

export interface DialOptions {
  /** TLS options for https: URLs (ca, cert, key, servername, rejectUnauthorized…). */
  tls?: ConnectionOptions;
  /** Extra request headers. */
  headers?: OutgoingHttpHeaders;
  /** Supplies the connection (e.g. through an egress dialer); for https it must return a TLS socket. */
  createConnection?: () => Duplex;
  /** Gives up when no response head arrives in time. @default 30000 */
  timeoutMs?: number;
}

/** The peer answered the upgrade with something other than 101. */
export class UpgradeFailure extends Error {
  override readonly name = 'UpgradeFailure';

  constructor(
    readonly statusCode: number,
    readonly body: string,
    /** The body decoded, when it is a Kubernetes Status. */
    readonly status: Status | undefined
  ) {
    super(`unable to upgrade connection: ${status?.message ?? (body.trim() || `status code ${statusCode}`)}`);
  }
}

function decodeStatus(body: string): Status | undefined {
  try {
    const v = JSON.parse(body) as Status;
    return v && typeof v === 'object' && v.kind === 'Status' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sends a SPDY/3.1 upgrade offering `protocols` and resolves with the raw upgraded socket, the bytes read past
 * the 101 (`head`) and the protocol the server picked ('' if it named none). For relaying a stream byte for byte,
 * e.g. kubectl's WebSocket port-forward tunnel to a kubelet's SPDY port-forward.
 */
export function dialSpdyUpgrade(
  url: string | URL,
  protocols: readonly string[],
  options: DialOptions = {}
): Promise<{ socket: Socket; head: Buffer; protocol: string; response: IncomingMessage }> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(target, {
      method: 'POST',
      // With `agent: false` Node makes a fresh Agent and ignores `createConnection`: only set it without one.
      ...(options.createConnection ? { createConnection: options.createConnection } : { agent: false }),
      ...options.tls,
      headers: {
        ...options.headers,
        'Content-Length': '0',
        Connection: 'Upgrade',
        Upgrade: 'SPDY/3.1',
        [HEADER_PROTOCOL_VERSION]: [...protocols],
      },
      timeout: options.timeoutMs ?? 30_000,
    });
    req.once('timeout', () => req.destroy(new Error(`timed out waiting for the upgrade response from ${target.host}`)));
    req.once('error', reject);
    req.once('upgrade', (res, socket, head) => {
      const connection = (res.headers.connection ?? '').toLowerCase();
      const upgrade = (res.headers.upgrade ?? '').toLowerCase();
      if (!connection.includes('upgrade') || !upgrade.includes('spdy/3.1')) {
        socket.destroy();
        reject(
          new UpgradeFailure(res.statusCode ?? 0, `unexpected upgrade headers: ${connection} ${upgrade}`, undefined)
        );
        return;
      }
      socket.setTimeout(0);
      socket.setNoDelay(true);
      const protocol = res.headers[HEADER_PROTOCOL_VERSION.toLowerCase()];
      resolve({ socket, head, protocol: typeof protocol === 'string' ? protocol : '', response: res });
    });
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 64 * 1024) chunks.push(c);
      });
      res.once('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        reject(new UpgradeFailure(res.statusCode ?? 0, body, decodeStatus(body)));
      });
      res.once('error', reject);
    });
    req.end();
  });
}

/** Opens a SPDY/3.1 connection offering `protocols`; resolves with the one the server picked ('' if none named). */
export async function dialSpdy(
  url: string | URL,
  protocols: readonly string[],
  options: DialOptions & Omit<SpdyConnectionOptions, 'isServer' | 'head'> = {}
): Promise<{ connection: SpdyConnection; protocol: string; response: IncomingMessage }> {
  const { socket, head, protocol, response } = await dialSpdyUpgrade(url, protocols, options);
  const connection = new SpdyConnection(socket, {
    idleTimeoutMs: options.idleTimeoutMs,
    initialWindowSize: options.initialWindowSize,
    maxBufferedPerStream: options.maxBufferedPerStream,
    maxFrameSize: options.maxFrameSize,
    closeTimeoutMs: options.closeTimeoutMs,
    isServer: false,
    head,
  });
  return { connection, protocol, response };
}

/**
 * Opens a WebSocket offering `protocols`; a non-101 answer rejects with an UpgradeFailure. It resolves paused:
 * frames that came with the 101 would otherwise be emitted before the caller's listeners exist, so call
 * `ws.resume()` after attaching them (webSocketRemoteCommandClient does).
 */
export function dialWebSocket(
  url: string | URL,
  protocols: readonly string[],
  options: DialOptions = {}
): Promise<{ ws: WebSocket; protocol: string }> {
  const target = new URL(url);
  target.protocol = target.protocol === 'https:' ? 'wss:' : target.protocol === 'http:' ? 'ws:' : target.protocol;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(target, [...protocols], {
      ...options.tls,
      headers: options.headers as Record<string, string> | undefined,
      perMessageDeflate: false,
      handshakeTimeout: options.timeoutMs ?? 30_000,
      createConnection: options.createConnection as never,
    });
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        reject(new UpgradeFailure(res.statusCode ?? 0, body, decodeStatus(body)));
        ws.terminate();
      });
    });
    ws.once('error', reject);
    ws.once('open', () => {
      ws.pause();
      ws.off('error', reject);
      resolve({ ws, protocol: ws.protocol });
    });
  });
}

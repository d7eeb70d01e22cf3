// Relaying one request to a backend over a connection the egress dialer opened (upstream's UpgradeAwareHandler,
// streaming.md §2.1). An upgrade is written to the backend as it came (minus the caller's credentials); the
// backend's 101 goes back byte for byte and then bytes flow both ways until either side closes, so SPDY, WebSocket
// and the WebSocket SPDY tunnel all pass end to end (pings and pongs included). A non-101 answer is echoed and the
// connection closed. A plain request is reverse-proxied with the body streamed as it arrives.
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { StatusError, type StatusReason } from '../../api/errors.js';
import { relay } from '../../lib/relay.js';
import type { RequestContext, Request, Response } from '../context.js';

// Headers that carry the caller's credentials: the backend must never see them (the kubelet sees the API server's
// client certificate; a pod sees no credential at all).
const credentialHeaders = /^(authorization|proxy-authorization|impersonate-.*)$/i;
// Per-hop headers (RFC 9110 §7.6.1) and HTTP/2 pseudo-headers, never forwarded on a plain request.
const hopByHop =
  /^(:.*|connection|keep-alive|proxy-connection|te|trailer|transfer-encoding|upgrade|http2-settings|host)$/i;

/** The headers sent to the backend: the caller's, without credentials, hop-by-hop headers (unless upgrading). */
export function backendHeaders(req: Request, host: string, upgrade: boolean): string[] {
  const out: string[] = [];
  const raw = req.rawHeaders;
  let forwardedFor = '';
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (credentialHeaders.test(name)) continue;
    if (/^x-forwarded-for$/i.test(name)) {
      forwardedFor = forwardedFor ? `${forwardedFor}, ${value}` : value;
      continue;
    }
    if (/^(host|:.*)$/i.test(name)) continue;
    if (!upgrade && hopByHop.test(name)) continue;
    out.push(name, value);
  }
  const remote = req.socket?.remoteAddress;
  if (remote) forwardedFor = forwardedFor ? `${forwardedFor}, ${remote}` : remote;
  if (forwardedFor) out.push('X-Forwarded-For', forwardedFor);
  out.push('Host', host);
  return out;
}

export interface Backend {
  /** An open connection to the backend (TLS already verified where it applies). */
  socket: Duplex;
  /** The Host header: `host:port`. */
  host: string;
  /** Path and query on the backend. */
  path: string;
  /** Overrides the caller's method (the kubelet's streaming endpoints take what kubectl sent). */
  method?: string;
}

function send(req: Request, backend: Backend, upgrade: boolean) {
  return httpRequest({
    method: backend.method ?? req.method,
    path: backend.path,
    createConnection: () => backend.socket,
    setHost: false,
    headers: backendHeaders(req, backend.host, upgrade) as unknown as OutgoingHttpHeaders,
  });
}

function rawHead(res: IncomingMessage, skip: RegExp | undefined, extra: string[] = []): string {
  const lines = [`HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}`];
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2)
    if (!skip?.test(res.rawHeaders[i]!)) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
  lines.push(...extra);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export interface UpgradeRelayOptions {
  /**
   * Called instead of echoing a backend's refusal (non-101) when it returns true: the caller serves the upgrade
   * another way (a SPDY-only kubelet refusing a WebSocket, translate.ts). The refused connection is closed.
   */
  onRefused?: (statusCode: number) => Promise<boolean>;
}

/** Relays an HTTP/1.1 upgrade (exec, attach, port-forward, or an upgrade through a proxy subresource). */
export function relayUpgrade(
  ctx: RequestContext,
  req: Request,
  backend: Backend,
  options: UpgradeRelayOptions = {}
): Promise<void> {
  const client = ctx.upgrade!.socket;
  return new Promise((resolve) => {
    const breq = send(req, backend, true);
    const done = (): void => resolve();
    breq.once('upgrade', (bres, bsocket, bhead) => {
      ctx.statusCode = 101;
      client.write(rawHead(bres, undefined));
      if (bhead.length) client.write(bhead);
      const head = ctx.upgrade!.head;
      if (head.length) bsocket.write(head);
      relay(bsocket, client);
      relay(client, bsocket);
      // Either side closing ends both: no half-dead relays holding sockets.
      const end = (): void => {
        bsocket.destroy();
        client.destroy();
        done();
      };
      bsocket.once('close', end);
      client.once('close', end);
      bsocket.on('error', end);
      client.on('error', end);
    });
    breq.once('response', (bres) => {
      // Refused by the backend (a Status from the kubelet): echoed, so kubectl prints it or falls back to SPDY.
      ctx.statusCode = bres.statusCode;
      const chunks: Buffer[] = [];
      bres.on('data', (c: Buffer) => chunks.push(c));
      bres.once('end', async () => {
        backend.socket.destroy();
        if (await options.onRefused?.(bres.statusCode ?? 0).catch(() => false)) return done();
        const body = Buffer.concat(chunks);
        client.end(
          Buffer.concat([
            Buffer.from(
              rawHead(bres, /^(connection|content-length|transfer-encoding|keep-alive)$/i, [
                `Content-Length: ${body.length}`,
                'Connection: close',
              ])
            ),
            body,
          ])
        );
        done();
      });
      bres.once('error', () => {
        client.destroy();
        done();
      });
    });
    breq.once('error', () => {
      client.destroy();
      done();
    });
    ctx.signal.addEventListener('abort', () => breq.destroy(), { once: true });
    breq.end();
  });
}

export interface RelayOptions {
  /** Rewrites a backend redirect so it points back through the proxy subresource (upstream's wrapTransport). */
  rewriteLocation?: (location: string) => string;
  /** A backend answer >= 400 becomes a Status error instead of being relayed (pods/log, as upstream). */
  errorsAsStatus?: boolean;
}

function backendStatus(code: number, body: string): StatusError {
  try {
    const s = JSON.parse(body) as { kind?: string; message?: string; reason?: StatusReason };
    if (s.kind === 'Status' && s.message) return new StatusError(code, s.reason ?? 'InternalError', s.message);
  } catch {
    // plain text, as the kubelet's 401/403 are
  }
  const reason: StatusReason =
    code === 400 ? 'BadRequest' : code === 403 ? 'Forbidden' : code === 404 ? 'NotFound' : 'InternalError';
  return new StatusError(code, reason, body.trim() || `the backend answered ${code}`);
}

/** Reverse-proxies a plain request; the response body is written as it arrives (logs -f, proxied streams). */
export function relayRequest(
  ctx: RequestContext,
  req: Request,
  res: Response,
  backend: Backend,
  options: RelayOptions = {}
): Promise<void> {
  return new Promise((resolve, reject) => {
    const breq = send(req, backend, false);
    const finish = (): void => {
      backend.socket.destroy();
      resolve();
    };
    breq.once('response', (bres) => {
      if (options.errorsAsStatus && (bres.statusCode ?? 500) >= 400) {
        const chunks: Buffer[] = [];
        bres.on('data', (c: Buffer) => chunks.push(c));
        bres.once('end', () => {
          backend.socket.destroy();
          reject(backendStatus(bres.statusCode ?? 500, Buffer.concat(chunks).toString('utf8')));
        });
        return;
      }
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(bres.headers)) {
        if (v === undefined || hopByHop.test(k)) continue;
        headers[k] = k === 'location' && options.rewriteLocation ? options.rewriteLocation(String(v)) : v;
      }
      ctx.statusCode = bres.statusCode ?? 502;
      res.writeHead(ctx.statusCode, headers);
      (res as { flushHeaders?: () => void }).flushHeaders?.();
      bres.on('data', (c: Buffer) => {
        if (!(res as NodeJS.WritableStream).write(c)) {
          bres.pause();
          res.once('drain', () => bres.resume());
        }
      });
      bres.once('end', () => {
        res.end();
        finish();
      });
      bres.once('error', () => {
        res.destroy();
        finish();
      });
    });
    breq.once('error', (err) => {
      backend.socket.destroy();
      // Before the answer began it is a Status naming the failure; after, the client sees the stream cut.
      if (!res.headersSent)
        reject(new StatusError(502, 'InternalError', `error trying to reach backend: ${err.message}`));
      else {
        res.destroy();
        resolve();
      }
    });
    ctx.signal.addEventListener(
      'abort',
      () => {
        breq.destroy();
        finish();
      },
      { once: true }
    );
    if (req.method === 'GET' || req.method === 'HEAD') breq.end();
    else (req as NodeJS.ReadableStream).pipe(breq);
  });
}

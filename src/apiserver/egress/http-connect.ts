// The `HTTPConnect` egress dialer (upstream's tunnelHTTPConnect): a new connection to the proxy per dial — a Unix
// socket, plain TCP, or TLS with a client certificate — then `CONNECT host:port HTTP/1.1`; a 200 makes the
// socket the connection, anything else fails the dial with the proxy's status line and body.
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { StatusError } from '../../api/errors.js';
import { newServiceUnavailable, newTimeout } from '../../api/errors.js';
import type { DialOptions, EgressDialer } from './dialer.js';

/** Upstream reads the CONNECT reply with http.ReadResponse, whose header limit is http.DefaultMaxHeaderBytes. */
const MAX_REPLY_BYTES = 1 << 20;

export type HTTPConnectTarget =
  { udsName: string } | { url: string; tls?: { ca?: string; cert: string; key: string; servername?: string } };

export class HTTPConnectDialer implements EgressDialer {
  readonly name = 'http-connect';
  readonly #proxy: string;

  constructor(private readonly target: HTTPConnectTarget) {
    this.#proxy = 'udsName' in target ? `unix:${target.udsName}` : target.url;
  }

  #connect(): Socket {
    const t = this.target;
    if ('udsName' in t) return netConnect({ path: t.udsName });
    const u = new URL(t.url);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const port = Number(u.port);
    if (!t.tls) return netConnect({ host, port });
    return tlsConnect({
      host,
      port,
      ca: t.tls.ca,
      cert: t.tls.cert,
      key: t.tls.key,
      servername: t.tls.servername ?? (/^[\d.]+$|:/.test(host) ? undefined : host),
      ALPNProtocols: ['http/1.1'],
    });
  }

  dial(_network: 'tcp', address: string, options: DialOptions = {}): Promise<Duplex> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) return reject(newServiceUnavailable(`dial tcp ${address}: operation was canceled`));
      const socket = this.#connect();
      let reply = Buffer.alloc(0);
      const fail = (err: StatusError): void => {
        cleanup();
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(
        () => fail(newTimeout(`dial tcp ${address}: i/o timeout (no CONNECT reply from ${this.#proxy})`)),
        timeoutMs
      );
      const onAbort = (): void => fail(newServiceUnavailable(`dial tcp ${address}: operation was canceled`));
      const onError = (err: Error): void => fail(newServiceUnavailable(`proxy ${this.#proxy}: ${err.message}`));
      const onClose = (): void => fail(newServiceUnavailable(`proxy ${this.#proxy} closed the connection`));
      const onData = (chunk: Buffer): void => {
        reply = Buffer.concat([reply, chunk]);
        const end = reply.indexOf('\r\n\r\n');
        if (end < 0) {
          if (reply.length > MAX_REPLY_BYTES) fail(newServiceUnavailable(`proxy ${this.#proxy}: reply too large`));
          return;
        }
        const head = reply.subarray(0, end).toString('latin1');
        const statusLine = head.split('\r\n')[0]!;
        const code = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
        if (code !== 200) {
          // The proxy's reason is in the body (upstream's server: "currently no tunnels available: …").
          const body = reply
            .subarray(end + 4)
            .toString('utf8')
            .trim();
          const msg = `proxy ${this.#proxy}: ${statusLine}${body ? `: ${body}` : ''}`;
          return fail(code === 504 ? newTimeout(msg) : newServiceUnavailable(msg));
        }
        cleanup();
        socket.pause(); // flowing since the 'data' listener; the caller resumes it when it reads
        // Bytes behind the 200 would be the backend speaking before the client; upstream fails the dial too.
        if (reply.length > end + 4) {
          socket.destroy();
          return reject(
            newServiceUnavailable(`proxy ${this.#proxy}: unexpected ${reply.length - end - 4} bytes of buffered data`)
          );
        }
        socket.setNoDelay?.(true);
        resolve(socket);
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        socket.off('data', onData);
        socket.off('error', onError);
        socket.off('close', onClose);
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      socket.on('data', onData);
      socket.once('error', onError);
      socket.once('close', onClose);
      // Routed on the request line; Host is what kube-apiserver sends.
      socket.write(`CONNECT ${address} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: hubspoke-apiserver\r\n\r\n`);
    });
  }
}

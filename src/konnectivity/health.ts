// The health listener both processes serve (upstream's --health-port): /healthz always 200 (liveness), /readyz and
// the deprecated /ready from a readiness check, /metrics from the process's own prom-client registry.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthOptions {
  /** undefined when ready; otherwise the reason, sent with `unreadyStatus`. */
  notReady: () => string | undefined;
  /** Upstream's server answers 500, its agent 503. */
  unreadyStatus: number;
  registry: Registry;
}

/** Listens on `host:port` (port 0 picks one). @returns the server and its port */
export async function listenHealth(
  host: string,
  port: number,
  o: HealthOptions
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (code: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(code, { 'content-type': type }).end(body);
    };
    if (path === '/healthz') return reply(200, 'ok');
    if (path === '/readyz' || path === '/ready') {
      const why = o.notReady();
      return why === undefined ? reply(200, 'ok') : reply(o.unreadyStatus, why);
    }
    if (path === '/metrics') {
      o.registry.metrics().then(
        (text) => reply(200, text, o.registry.contentType),
        (err: Error) => reply(500, err.message)
      );
      return;
    }
    reply(404, '404 page not found');
  });
  server.headersTimeout = 60_000; // upstream's ReadHeaderTimeout
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return { server, port: (server.address() as AddressInfo).port };
}

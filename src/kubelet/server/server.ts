// The kubelet's HTTPS server (:10250; streaming.md §1, security.md §5): TLS 1.2+ with the serving certificate
// (replaced in place when it rotates), every request authenticated and authorized before anything is read,
// spawned or dialled, then routed. 401/403 are plain text as upstream's; other errors are Status objects.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { StatusError, newBadRequest } from '../../api/errors.js';
import type { KubeClient } from '../../lib/kube-client.js';
import type { Logger } from '../../lib/log.js';
import { opensslCiphers } from '../../pki/index.js';
import { rejectUpgrade, upgradeKind } from '../../streams/index.js';
import { KubeletAuth, type KubeletAuthOptions, type UserInfo } from './auth.js';
import { parseLogOptions, streamContainerLog, type LogSource } from './logs.js';
import { StatsProvider, type StatsContainer } from './stats.js';
import {
  runCommand,
  servePortForwardRequest,
  serveRemoteCommand,
  type StreamingHost,
  type Target,
} from './streaming.js';

/** What the server reads from the kubelet (Kubelet implements it). */
export interface KubeletServerHost extends StreamingHost {
  listPods(): Pod[];
  /** @throws StatusError 404 unknown pod/container, 400 no such instance */
  containerLog(ns: string, pod: string, container: string, previous: boolean): LogSource;
  statsContainers(pod: Pod): StatsContainer[];
}

export interface ServingCertificate {
  certPem: string;
  keyPem: string;
}

export interface KubeletServerOptions extends KubeletAuthOptions {
  address: string;
  port: number;
  /** PEM bundle client certificates must chain to. */
  clientCAPem: string;
  tlsMinVersion: 'VersionTLS12' | 'VersionTLS13';
  tlsCipherSuites: string[];
  streamingConnectionIdleTimeoutMs: number;
  /** Served under /logs/. @default /var/log */
  logDir?: string;
}

// Path patterns: {podNamespace}/{podID}[/{uid}]/{containerName}.
const containerRoute = /^\/(exec|attach|run|containerLogs)\/([^/]+)\/([^/]+)(?:\/([^/]+))?\/([^/]+)\/?$/;
const portForwardRoute = /^\/portForward\/([^/]+)\/([^/]+)(?:\/([^/]+))?\/?$/;

function plain(res: ServerResponse, code: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

function statusResponse(res: ServerResponse, err: StatusError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(err.code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(err.status));
}

/** An HTTP/1.1 plain-text answer on an upgrade socket (401/403 before any upgrade). */
function plainUpgradeAnswer(socket: Duplex, code: number, text: string): void {
  const body = `${text}\n`;
  socket.end(
    `HTTP/1.1 ${code} ${code === 401 ? 'Unauthorized' : code === 403 ? 'Forbidden' : 'Error'}\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

const decode = (s: string | undefined): string => decodeURIComponent(s ?? '');

export class KubeletServer {
  readonly #server: Server;
  readonly #auth: KubeletAuth;
  readonly #sockets = new Set<Duplex>();
  readonly #stats: StatsProvider;
  readonly metrics = new Registry();
  readonly #requests: Counter<'method' | 'path' | 'server_type' | 'long_running'>;
  #hasCert = false;
  #host?: KubeletServerHost;
  /**
   * Upstream's ExtendWebSocketsToKubelet: exec/attach/port-forward over WebSocket too. Off, the kubelet refuses
   * WebSockets as an upstream kubelet's streaming server does, so the API server must translate (tests use it).
   */
  extendWebSocketsToKubelet = true;

  private constructor(
    private readonly o: KubeletServerOptions,
    client: KubeClient,
    private readonly log: Logger,
    cert: ServingCertificate | undefined
  ) {
    this.#auth = new KubeletAuth(o, client);
    this.#stats = new StatsProvider(o.nodeName, new Date().toISOString());
    this.#server = createServer({
      ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}),
      ca: o.clientCAPem,
      requestCert: true,
      rejectUnauthorized: false, // a request may carry a token instead; authenticate() decides
      minVersion: o.tlsMinVersion === 'VersionTLS13' ? 'TLSv1.3' : 'TLSv1.2',
      ciphers: opensslCiphers(o.tlsCipherSuites),
      honorCipherOrder: true,
    });
    this.#hasCert = !!cert;
    this.#server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.#request(req, res));
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      void this.#upgrade(req, socket, head);
    });
    this.#server.on('secureConnection', (s: TLSSocket) => {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
    this.#server.on('tlsClientError', () => undefined); // handshakes without a certificate yet, scanners
    this.#requests = new Counter({
      name: 'kubelet_http_requests_total',
      help: 'Number of the http requests received since the server started',
      labelNames: ['method', 'path', 'server_type', 'long_running'],
      registers: [this.metrics],
    });
    new Gauge({
      name: 'kubelet_node_name',
      help: "The node's name. The count is always 1.",
      labelNames: ['node'],
      registers: [this.metrics],
    }).set({ node: o.nodeName }, 1);
    const pods = (): Pod[] => this.#host?.listPods() ?? [];
    new Gauge({
      name: 'kubelet_running_pods',
      help: 'Number of pods that have a running pod sandbox',
      registers: [this.metrics],
      collect() {
        this.set(pods().filter((p) => p.status?.phase === 'Running').length);
      },
    });
    new Gauge({
      name: 'kubelet_running_containers',
      help: 'Number of containers currently running',
      labelNames: ['container_state'],
      registers: [this.metrics],
      collect() {
        const n = pods().reduce(
          (sum, p) => sum + (p.status?.containerStatuses ?? []).filter((c) => c.state?.running).length,
          0
        );
        this.set({ container_state: 'running' }, n);
      },
    });
    collectDefaultMetrics({ register: this.metrics });
  }

  /** Starts listening; handshakes fail until a serving certificate is set. */
  static async start(
    o: KubeletServerOptions,
    client: KubeClient,
    log: Logger,
    cert?: ServingCertificate
  ): Promise<KubeletServer> {
    const s = new KubeletServer(o, client, log, cert);
    await new Promise<void>((resolve, reject) => {
      s.#server.once('error', reject);
      s.#server.listen(o.port, o.address, () => {
        s.#server.off('error', reject);
        resolve();
      });
    });
    log.info({ address: o.address, port: s.port }, 'kubelet server listening');
    return s;
  }

  /** The kubelet behind the routes; until it is set, requests that pass authorization get 503. */
  set host(h: KubeletServerHost) {
    this.#host = h;
  }

  get #kubelet(): KubeletServerHost {
    if (!this.#host) throw new StatusError(503, 'ServiceUnavailable', 'the kubelet is starting');
    return this.#host;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get hasCertificate(): boolean {
    return this.#hasCert;
  }

  /** Replaces the serving certificate for new connections (rotation). */
  setSecureContext(cert: ServingCertificate): void {
    this.#server.setSecureContext({
      cert: cert.certPem,
      key: cert.keyPem,
      ca: this.o.clientCAPem,
      minVersion: this.o.tlsMinVersion === 'VersionTLS13' ? 'TLSv1.3' : 'TLSv1.2',
      ciphers: opensslCiphers(this.o.tlsCipherSuites),
      honorCipherOrder: true,
    });
    this.#hasCert = true;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((r) => this.#server.close(() => r()));
    for (const s of this.#sockets) s.destroy();
    await closed;
  }

  /** 401/403 as text, or the user. */
  async #check(
    req: IncomingMessage,
    path: string,
    deny: (code: number, text: string) => void
  ): Promise<UserInfo | undefined> {
    let user: UserInfo | undefined;
    try {
      user = await this.#auth.authenticate(req);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'token review failed');
    }
    if (!user) {
      deny(401, 'Unauthorized');
      return undefined;
    }
    const d = await this.#auth.authorize(user, req.method, path);
    if (!d.allowed) {
      deny(d.code, d.message);
      return undefined;
    }
    return user;
  }

  #count(req: IncomingMessage, path: string, longRunning: boolean): void {
    this.#requests.inc({
      method: req.method ?? '',
      path: path.split('/')[1] || '/',
      server_type: 'readwrite',
      long_running: String(longRunning),
    });
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const path = url.pathname;
    this.#count(req, path, true);
    const user = await this.#check(req, path, (code, text) => plainUpgradeAnswer(socket, code, text));
    if (!user) return;
    const streaming = { idleTimeoutMs: this.o.streamingConnectionIdleTimeoutMs, log: this.log };
    try {
      if (req.method !== 'GET' && req.method !== 'POST')
        throw new StatusError(405, 'MethodNotAllowed', `method ${req.method} not allowed`);
      if (!this.extendWebSocketsToKubelet && upgradeKind(req) === 'websocket')
        throw newBadRequest('unable to upgrade: this kubelet streams over SPDY only');
      const c = containerRoute.exec(path);
      if (c && (c[1] === 'exec' || c[1] === 'attach')) {
        const t = this.#target(c);
        return await serveRemoteCommand(c[1], req, socket, head, this.#kubelet, t, url.searchParams, streaming);
      }
      const pf = portForwardRoute.exec(path);
      if (pf) {
        const ns = decode(pf[1]);
        const pod = decode(pf[2]);
        this.#checkUID(ns, pod, pf[3]);
        return await servePortForwardRequest(req, socket, head, this.#kubelet, ns, pod, url.searchParams, streaming);
      }
      throw new StatusError(404, 'NotFound', `${path} does not take an upgrade`);
    } catch (err) {
      rejectUpgrade(socket, err instanceof StatusError ? err : newInternal(err));
    }
  }

  #target(m: RegExpExecArray): Target {
    const t = { ns: decode(m[2]), pod: decode(m[3]), container: decode(m[5]) };
    this.#checkUID(t.ns, t.pod, m[4]);
    return t;
  }

  /** The `{uid}` path forms also check the pod's UID. */
  #checkUID(ns: string, pod: string, uid: string | undefined): void {
    if (uid === undefined) return;
    const p = this.#kubelet.listPods().find((x) => x.metadata?.namespace === ns && x.metadata?.name === pod);
    if (!p || p.metadata?.uid !== decode(uid)) throw new StatusError(404, 'NotFound', 'pod not found');
  }

  async #request(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const path = url.pathname;
    const longRunning = /^\/containerLogs\//.test(path) && url.searchParams.get('follow') === 'true';
    this.#count(req, path, longRunning);
    const user = await this.#check(req, path, (code, text) => plain(res, code, `${text}\n`));
    if (!user) return;
    try {
      await this.#route(req, res, url);
    } catch (err) {
      statusResponse(res, err instanceof StatusError ? err : newInternal(err));
    }
  }

  async #route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const only = (...methods: string[]): void => {
      if (!methods.includes(method))
        throw new StatusError(405, 'MethodNotAllowed', `method ${method} is not allowed on ${path}`);
    };
    if (/^\/healthz(\/(ping|log|syncloop))?$/.test(path)) {
      only('GET', 'HEAD');
      return plain(res, 200, 'ok');
    }
    if (path === '/pods' || path === '/pods/') {
      if (method !== 'GET') return plain(res, 405, 'Method Not Allowed\n', { allow: 'GET' });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: this.#kubelet.listPods() }));
      return;
    }
    if (path === '/metrics') {
      only('GET');
      res.writeHead(200, { 'content-type': this.metrics.contentType });
      res.end(await this.metrics.metrics());
      return;
    }
    if (path === '/stats/summary' || path === '/stats/summary/') {
      only('GET');
      const pods = this.#kubelet.listPods().map((pod) => ({ pod, containers: this.#kubelet.statsContainers(pod) }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(this.#stats.summary(pods, url.searchParams.get('only_cpu_and_memory') === 'true')));
      return;
    }
    if (path === '/logs' || path.startsWith('/logs/')) {
      only('GET');
      return this.#hostLogs(res, path);
    }
    const c = containerRoute.exec(path);
    if (c) {
      const t = this.#target(c);
      if (c[1] === 'containerLogs') {
        only('GET');
        return this.#containerLogs(res, t, url.searchParams);
      }
      if (c[1] === 'run') {
        only('POST');
        this.#kubelet.assertRunning(t.ns, t.pod, t.container);
        const { out } = await runCommand(this.#kubelet, t, url.searchParams.get('cmd') ?? '');
        res.writeHead(200, { 'content-type': 'application/json' }); // upstream's header, although the body is raw
        res.end(out);
        return;
      }
      only('GET', 'POST');
      throw newBadRequest('Upgrade request required');
    }
    if (portForwardRoute.test(path)) {
      only('GET', 'POST');
      throw newBadRequest('Upgrade request required');
    }
    plain(res, 404, '404 page not found\n');
  }

  async #containerLogs(res: ServerResponse, t: Target, q: URLSearchParams): Promise<void> {
    const o = parseLogOptions(q);
    const src = this.#kubelet.containerLog(t.ns, t.pod, t.container, o.previous);
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    res.writeHead(200, { 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    await streamContainerLog(src, o, res, abort.signal);
    res.end();
  }

  /** `/logs/`: the node's log directory, listed as Go's FileServer does, or one file. */
  async #hostLogs(res: ServerResponse, path: string): Promise<void> {
    const root = this.o.logDir ?? '/var/log';
    const rel = normalize(decodeURIComponent(path.slice('/logs'.length)) || '/');
    if (rel.split('/').includes('..')) throw newBadRequest('invalid path');
    const file = join(root, rel);
    const st = await stat(file).catch(() => undefined);
    if (!st) return plain(res, 404, '404 page not found\n');
    if (st.isDirectory()) {
      if (!path.endsWith('/')) {
        res.writeHead(301, { location: `${path}/` });
        res.end();
        return;
      }
      const entries = await readdir(file, { withFileTypes: true });
      const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
      const items = entries
        .map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
        .sort()
        .map((n) => `<a href="${esc(encodeURI(n))}">${esc(n)}</a>\n`);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<pre>\n${items.join('')}</pre>\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(st.size) });
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  }
}

function newInternal(err: unknown): StatusError {
  return new StatusError(500, 'InternalError', err instanceof Error ? err.message : String(err));
}

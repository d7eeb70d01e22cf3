// The konnectivity server core (upstream's pkg/server/server.go): agents open `AgentService/Connect` over TLS and
// become backends; the API server opens one `ProxyService/Proxy` stream per dial over a Unix socket, or one
// HTTP-CONNECT socket per dial. The server relays DIAL_REQ / DIAL_RSP / DATA / CLOSE_* between the two legs
// unchanged, keyed as upstream keys them: pending dials by `random` (globally), established connections by
// (agent stream, connectID). Reference §2. Per-connection flow control toward our agents: ../flow.ts.
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { rmSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import {
  createSecureServer,
  createServer as createHttp2Server,
  type Http2Server,
  type Http2SecureServer,
} from 'node:http2';
import { silentLogger, type Logger } from '../../lib/log.js';
import { listenHealth } from '../health.js';
import { CreditBatcher, dataPieces, defaultWindowBytes, maxDataBytesFor, parseWindow, windowHeader } from '../flow.js';
import { GrpcStatus, tunnelSettings, type GrpcStatusCode } from '../proto/grpc.js';
import { PacketType, agentServiceDefinition, proxyServiceDefinition, type Packet } from '../proto/packet.js';
import {
  BackendManager,
  parseAgentIdentifiers,
  type AgentIdentifiers,
  type Backend,
  type ProxyStrategy,
} from './backends.js';
import { GrpcLeg, type FrontendLeg } from './frontend.js';
import { serveGrpc, type ServerCall } from './grpc-server.js';
import { ConnectLeg, httpError } from './http-connect.js';
import { packetTypeNames, ServerMetrics, type DialFailureReason } from './metrics.js';

export interface ProxyServerOptions {
  /** Sent to agents in the `serverid` header; they deduplicate servers on it. */
  serverID: string;
  /** Sent as `servercount`: how many distinct servers an agent should hold. @default 1 */
  serverCount?: number;
  /**
   * Checks the agent's bearer token before any header is sent (`tokenReviewAuthenticator` in ./auth.ts: a
   * TokenReview with audience `system:konnectivity-server`). Rejects with the reason on failure. May be left out
   * only when `listenAgents` is given a `ca` (mTLS agent authentication).
   */
  authenticateAgent?: (token: string, identifiers: AgentIdentifiers) => Promise<void>;
  /** --proxy-strategies. @default ['destHost', 'default'] */
  proxyStrategies?: readonly ProxyStrategy[];
  /** --backend-dial-timeout: a dial the agent has not answered by then fails (gRPC: DIAL_RSP error, HTTP: 504). 0 = off. @default 0 */
  backendDialTimeoutMs?: number;
  /** --keepalive-time (agent listener; the frontend listener uses --frontend-keepalive-time). @default 30 s */
  keepaliveTimeMs?: number;
  /** A peer that does not answer a keepalive ping within this is dead: its streams are removed. @default 15 s */
  keepaliveTimeoutMs?: number;
  /** Per-connection receive window announced to our agents. @default 4 MiB (../flow.ts) */
  windowBytes?: number;
  log?: Logger;
}

type Stream = ServerCall;

/** One agent `Connect` stream with its connections and flow-control state. */
interface AgentStream extends Backend {
  /** The agent's per-connection window, when it announced one (ours); upstream's agents leave it undefined. */
  readonly peerWindow: number | undefined;
  readonly conns: Map<bigint, Frontend>;
  /** Frontends paused until this stream drains (agents without a window). */
  readonly waiting: Set<Frontend>;
  /** Frontends whose unwritten bytes paused this stream (only an agent ignoring our window gets here). */
  readonly blockedBy: Set<Frontend>;
}

/** One dial from a frontend leg: a gRPC `Proxy` stream or an HTTP-CONNECT socket. */
interface Frontend {
  readonly leg: FrontendLeg;
  backend?: AgentStream;
  random?: bigint;
  connectID?: bigint;
  /** After CLOSE_REQ upstream stops reading the stream but keeps it open for the CLOSE_RSP. */
  closing: boolean;
  dialStarted?: bigint;
  dialTimer?: NodeJS.Timeout;
  /** client→node bytes sent to the agent and not yet credited. */
  toAgent: number;
  /** node→client bytes handed to the leg and not yet written. */
  unwritten: number;
  credit?: CreditBatcher;
  paused: boolean;
}

interface PendingDial {
  frontend: Frontend;
  backend: AgentStream;
}

/** A random int63, as Go's rand.Int63() makes dial IDs (HTTP-CONNECT dials are the server's own). */
function randomInt63(): bigint {
  return randomBytes(8).readBigUInt64BE() & ((1n << 63n) - 1n);
}

export class ProxyServer {
  private readonly log: Logger;
  private readonly backends: BackendManager<AgentStream>;
  private readonly pending = new Map<bigint, PendingDial>();
  private readonly agentStreams = new Set<AgentStream>();
  private readonly grpcServers: (() => void)[] = [];
  private readonly httpServers: HttpServer[] = [];
  private readonly window: number;
  /** prom-client registry with upstream's metric names; `/metrics` of `listenHealth` serves it. */
  readonly metrics: ServerMetrics;

  constructor(private readonly options: ProxyServerOptions) {
    this.log = options.log ?? silentLogger;
    this.backends = new BackendManager(options.proxyStrategies);
    this.window = options.windowBytes ?? defaultWindowBytes;
    this.metrics = new ServerMetrics({
      pendingDials: () => this.pending.size,
      establishedConnections: () => this.establishedCount,
      readyBackends: () => this.backends.size,
    });
  }

  /** Number of distinct connected agents (readiness is "at least one"). */
  get readyBackends(): number {
    return this.backends.size;
  }

  /** Dials waiting for their agent's DIAL_RSP (a leak check: back to 0 when idle). */
  get pendingDials(): number {
    return this.pending.size;
  }

  /** Connections with a connectID on some agent stream (a leak check: back to 0 when idle). */
  get establishedCount(): number {
    let n = 0;
    for (const b of this.agentStreams) n += b.conns.size;
    return n;
  }

  /**
   * Serves `AgentService/Connect` over TLS. With `ca`, agents must present a client certificate it verifies
   * (upstream's --cluster-ca-cert); then `authenticateAgent` is optional. @returns the bound port (0 picks one).
   */
  listenAgents(address: string, tls: { cert: string; key: string; ca?: string }): Promise<number> {
    if (!tls.ca && !this.options.authenticateAgent)
      throw new Error('konnectivity server: agents need authenticating: give authenticateAgent or a client CA');
    const server = createSecureServer({
      cert: tls.cert,
      key: tls.key,
      ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
      minVersion: 'TLSv1.2',
      settings: tunnelSettings,
    });
    this.serve(server, { [agentServiceDefinition.Connect.path]: (s) => void this.serveAgent(s) });
    const at = address.lastIndexOf(':');
    const host = address.slice(0, at).replace(/^\[(.*)\]$/u, '$1');
    return this.listen(server, (ready) => server.listen(Number(address.slice(at + 1)), host, ready));
  }

  /**
   * Serves `ProxyService/Proxy` on a Unix socket (no TLS: the socket's file mode is the access control). A stale
   * socket file is removed first (upstream's --delete-existing-uds-file default).
   */
  async listenFrontend(udsPath: string, opts: { keepaliveTimeMs?: number } = {}): Promise<void> {
    rmSync(udsPath, { force: true });
    const server = createHttp2Server({ settings: tunnelSettings });
    this.serve(server, { [proxyServiceDefinition.Proxy.path]: (s) => this.serveFrontend(s) }, opts.keepaliveTimeMs);
    await this.listen(server, (ready) => server.listen(udsPath, ready));
  }

  /**
   * Serves HTTP-CONNECT (`--mode http-connect`) on a Unix socket, or on TCP with mTLS (clients must present a
   * certificate `tls.ca` verifies, as upstream requires --server-ca-cert). @returns the TCP port (0 for UDS).
   */
  async listenHTTPConnect(
    at: { udsPath: string } | { host: string; port: number; tls: { cert: string; key: string; ca: string } }
  ): Promise<number> {
    const server =
      'udsPath' in at
        ? createHttpServer()
        : createHttpsServer({ ...at.tls, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' });
    server.headersTimeout = 60_000; // upstream's ReadHeaderTimeout
    server.on('request', (_req, res) => {
      res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('this proxy only supports CONNECT passthrough');
    });
    server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => this.serveConnect(req, socket, head));
    this.httpServers.push(server);
    if ('udsPath' in at) rmSync(at.udsPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if ('udsPath' in at) server.listen(at.udsPath, resolve);
      else server.listen(at.port, at.host, resolve);
    });
    return 'udsPath' in at ? 0 : (server.address() as AddressInfo).port;
  }

  /** `/healthz`, `/readyz` (500 "no connection to any proxy agent" until the first strategy has one), `/metrics`. */
  async listenHealth(host: string, port: number): Promise<number> {
    const h = await listenHealth(host, port, {
      notReady: () => (this.backends.ready ? undefined : 'no connection to any proxy agent'),
      unreadyStatus: 500,
      registry: this.metrics.registry,
    });
    this.httpServers.push(h.server);
    return h.port;
  }

  private serve(
    server: Http2Server | Http2SecureServer,
    methods: Record<string, (call: ServerCall) => void>,
    keepaliveTimeMs = this.options.keepaliveTimeMs ?? 30_000
  ): void {
    const timeoutMs = this.options.keepaliveTimeoutMs ?? 15_000;
    this.grpcServers.push(serveGrpc(server, methods, { timeMs: keepaliveTimeMs, timeoutMs }));
  }

  /** @returns the bound TCP port (0 on a Unix socket) */
  private listen(server: Http2Server | Http2SecureServer, start: (ready: () => void) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      start(() => {
        server.off('error', reject);
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : 0);
      });
    });
  }

  /** Stops at once (upstream's default `--graceful-shutdown-timeout=0`). */
  close(): void {
    for (const closeAll of this.grpcServers.splice(0)) closeAll();
    for (const s of this.httpServers.splice(0)) {
      s.close();
      s.closeAllConnections();
    }
  }

  private count(segment: string, p: Packet): void {
    this.metrics.streamPackets.inc({ segment, packet_type: packetTypeNames[p.type] ?? String(p.type) });
  }

  private toAgent(b: AgentStream, p: Packet): boolean {
    const s = b.stream;
    if (s.writableEnded || s.destroyed) return true;
    this.count('to_agent', p);
    if (p.type === PacketType.DATA)
      this.metrics.agentBytes.inc({ agent_id: b.agentID, direction: 'to_agent' }, p.data.data.length);
    return s.write(p);
  }

  private toFrontend(f: Frontend, p: Packet, written?: () => void): void {
    this.count('to_client', p);
    f.leg.send(p, written);
  }

  private failDial(f: Frontend, reason: DialFailureReason, random: bigint, error: string): void {
    this.metrics.dialFailures.inc({ reason });
    this.toFrontend(f, { type: PacketType.DIAL_RSP, dialResponse: { random, connectID: 0n, error } });
    f.closing = true;
    f.leg.end();
  }

  // ---- agents ----

  private async serveAgent(stream: Stream): Promise<void> {
    const agentID = stream.header('agentid');
    if (agentID === undefined) {
      return this.refuse(stream, GrpcStatus.INVALID_ARGUMENT, 'expected one agent ID in the context');
    }
    const identifiers = parseAgentIdentifiers(stream.header('agentidentifiers') ?? '');
    if (this.options.authenticateAgent) {
      const auth = stream.header('authorization');
      if (auth === undefined || !auth.startsWith('Bearer ')) {
        return this.refuse(stream, GrpcStatus.UNAUTHENTICATED, `agent ${agentID}: no bearer token`);
      }
      try {
        await this.options.authenticateAgent(auth.slice('Bearer '.length), identifiers);
      } catch (err) {
        return this.refuse(stream, GrpcStatus.UNAUTHENTICATED, `agent ${agentID}: ${(err as Error).message}`);
      }
    }
    if (stream.destroyed) return;
    const peerWindow = parseWindow(stream.header(windowHeader));
    stream.sendMetadata({
      serverid: this.options.serverID,
      servercount: String(this.options.serverCount ?? 1),
      ...(peerWindow !== undefined ? { [windowHeader]: String(this.window) } : {}),
    });

    const backend: AgentStream = {
      agentID,
      identifiers,
      stream,
      draining: false,
      peerWindow,
      conns: new Map(),
      waiting: new Set(),
      blockedBy: new Set(),
    };
    this.backends.add(backend);
    this.agentStreams.add(backend);
    this.metrics.grpcConnections.inc({ service_method: 'Connect' });
    this.log.info({ agentID, identifiers, flowControl: peerWindow !== undefined }, 'agent connected');
    let gone = false;
    const disconnect = (): void => {
      if (gone) return;
      gone = true;
      this.metrics.grpcConnections.dec({ service_method: 'Connect' });
      this.removeBackend(backend);
      if (!stream.writableEnded) stream.end();
    };
    stream.on('data', (p: Packet) => this.fromAgent(backend, p));
    stream.on('drain', () => {
      for (const f of backend.waiting) this.resumeLeg(f);
      backend.waiting.clear();
    });
    stream.on('end', disconnect);
    stream.on('close', disconnect);
  }

  private refuse(stream: Stream, code: GrpcStatusCode, details: string): void {
    this.log.warn({ reason: details }, 'agent refused');
    stream.fail(code, details);
  }

  /** Upstream leaves pending dials of a lost agent hanging (TODO #126); we fail them at once. */
  private removeBackend(backend: AgentStream): void {
    this.backends.remove(backend);
    this.agentStreams.delete(backend);
    for (const [random, dial] of this.pending) {
      if (dial.backend !== backend) continue;
      this.dropPending(random);
      this.failDial(dial.frontend, 'backend_close', random, `agent ${backend.agentID} disconnected`);
    }
    for (const [connectID, frontend] of backend.conns) {
      this.toFrontend(frontend, { type: PacketType.CLOSE_RSP, closeResponse: { connectID, error: '' } });
      frontend.connectID = undefined;
      frontend.closing = true;
      frontend.leg.end();
    }
    backend.conns.clear();
    this.metrics.agentOpenConnections.remove({ agent_id: backend.agentID });
    this.log.info({ agentID: backend.agentID }, 'agent disconnected');
  }

  private dropPending(random: bigint): PendingDial | undefined {
    const dial = this.pending.get(random);
    if (!dial) return undefined;
    this.pending.delete(random);
    clearTimeout(dial.frontend.dialTimer);
    return dial;
  }

  private fromAgent(backend: AgentStream, p: Packet): void {
    this.count('from_agent', p);
    const conns = backend.conns;
    switch (p.type) {
      case PacketType.DIAL_RSP: {
        const { random, connectID, error } = p.dialResponse;
        const dial = this.pending.get(random);
        if (!dial || dial.backend !== backend) {
          // The frontend gave up: free the agent's socket (reference §2.6, the only cleanup path upstream has).
          this.metrics.dialFailures.inc({ reason: 'unrecognized_response' });
          if (connectID !== 0n) this.toAgent(backend, { type: PacketType.CLOSE_REQ, closeRequest: { connectID } });
          return;
        }
        this.dropPending(random);
        const f = dial.frontend;
        if (error !== '') {
          this.metrics.dialFailures.inc({ reason: 'error_response' });
          this.toFrontend(f, p);
          f.closing = true;
          return;
        }
        const seconds = Number(process.hrtime.bigint() - (f.dialStarted ?? 0n)) / 1e9;
        this.metrics.dialDuration.observe(seconds);
        this.metrics.agentDialDuration.observe({ agent_id: backend.agentID }, seconds);
        f.connectID = connectID;
        if (backend.peerWindow !== undefined) f.credit = new CreditBatcher(this.window);
        conns.set(connectID, f);
        this.metrics.agentOpenConnections.set({ agent_id: backend.agentID }, conns.size);
        this.toFrontend(f, p);
        return;
      }
      case PacketType.DATA: {
        const id = p.data.connectID;
        if (id === 0n) return;
        const f = conns.get(id);
        if (!f) {
          this.toAgent(backend, { type: PacketType.CLOSE_REQ, closeRequest: { connectID: id } });
          return;
        }
        const n = p.data.data.length;
        this.metrics.agentBytes.inc({ agent_id: backend.agentID, direction: 'from_agent' }, n);
        f.unwritten += n;
        this.toFrontend(f, p, () => this.written(backend, f, id, n));
        // Bounded even for an agent that ignores windows (upstream's): its stream waits for this one reader.
        if (
          f.unwritten > (backend.peerWindow === undefined ? this.window : 2 * this.window) &&
          !backend.blockedBy.has(f)
        ) {
          backend.blockedBy.add(f);
          backend.stream.pause();
        }
        return;
      }
      case PacketType.CLOSE_RSP: {
        const f = conns.get(p.closeResponse.connectID);
        if (!f) return; // assuming it is already closed
        this.forget(backend, f);
        this.toFrontend(f, p);
        f.closing = true;
        return;
      }
      case PacketType.DIAL_CLS: {
        const dial = this.pending.get(p.closeDial.random);
        if (!dial || dial.backend !== backend) return;
        this.dropPending(p.closeDial.random);
        this.metrics.dialFailures.inc({ reason: 'backend_close' });
        this.toFrontend(dial.frontend, p);
        return;
      }
      case PacketType.DRAIN:
        backend.draining = true;
        return;
      case PacketType.WINDOW_UPDATE: {
        const f = conns.get(p.windowUpdate.connectID);
        if (!f) return;
        f.toAgent = Math.max(0, f.toAgent - p.windowUpdate.bytes);
        if (f.paused && f.toAgent < (backend.peerWindow ?? 0)) this.resumeLeg(f);
        return;
      }
      default:
        return; // other types are not sent by agents; upstream ignores them too
    }
  }

  /** node→client bytes reached the frontend: return credit to the agent, unblock its stream. */
  private written(backend: AgentStream, f: Frontend, connectID: bigint, n: number): void {
    f.unwritten -= n;
    const grant = f.credit?.delivered(n) ?? 0;
    if (grant > 0 && f.connectID === connectID && backend.conns.get(connectID) === f)
      this.toAgent(backend, { type: PacketType.WINDOW_UPDATE, windowUpdate: { connectID, bytes: grant } });
    if (backend.blockedBy.has(f) && f.unwritten <= this.window / 2) this.unblock(backend, f);
  }

  private unblock(backend: AgentStream, f: Frontend): void {
    if (backend.blockedBy.delete(f) && backend.blockedBy.size === 0) backend.stream.resume();
  }

  private forget(backend: AgentStream, f: Frontend): void {
    if (f.connectID !== undefined && backend.conns.get(f.connectID) === f) {
      backend.conns.delete(f.connectID);
      this.metrics.agentOpenConnections.set({ agent_id: backend.agentID }, backend.conns.size);
    }
    backend.waiting.delete(f);
    this.unblock(backend, f);
  }

  private pauseLeg(f: Frontend): void {
    if (f.paused) return;
    f.paused = true;
    f.leg.pause();
  }

  private resumeLeg(f: Frontend): void {
    if (!f.paused) return;
    f.paused = false;
    f.leg.resume();
  }

  // ---- frontends ----

  private newFrontend(leg: FrontendLeg): Frontend {
    return { leg, closing: false, toAgent: 0, unwritten: 0, paused: false };
  }

  /** A frontend leg ended: cancel its pending dial (DIAL_CLS) or close its connection on the node (CLOSE_REQ). */
  private frontendGone(f: Frontend): void {
    if (f.random !== undefined && this.pending.get(f.random)?.frontend === f) {
      this.dropPending(f.random);
      this.metrics.dialFailures.inc({ reason: 'frontend_close' });
      if (f.backend) this.toAgent(f.backend, { type: PacketType.DIAL_CLS, closeDial: { random: f.random } });
    }
    if (f.backend && f.connectID !== undefined && f.backend.conns.get(f.connectID) === f) {
      this.forget(f.backend, f);
      this.toAgent(f.backend, { type: PacketType.CLOSE_REQ, closeRequest: { connectID: f.connectID } });
    }
    if (f.backend) this.forget(f.backend, f);
  }

  /** Picks the agent and forwards the DIAL_REQ; false when none is available (the caller answers). */
  private dial(f: Frontend, p: Packet & { type: typeof PacketType.DIAL_REQ }): boolean {
    const backend = this.backends.pick(p.dialRequest.address);
    if (!backend) return false;
    const random = p.dialRequest.random;
    f.random = random;
    f.backend = backend;
    f.dialStarted = process.hrtime.bigint();
    this.pending.set(random, { frontend: f, backend });
    const timeout = this.options.backendDialTimeoutMs ?? 0;
    if (timeout > 0) {
      f.dialTimer = setTimeout(() => {
        if (this.pending.get(random)?.frontend !== f) return;
        this.dropPending(random);
        this.toAgent(backend, { type: PacketType.DIAL_CLS, closeDial: { random } });
        this.failDial(f, 'backend_dial_timeout', random, 'timed out waiting for backend dial');
      }, timeout);
    }
    this.toAgent(backend, p);
    return true;
  }

  /** client→node DATA on an established connection, under the agent's window or the stream's backpressure. */
  private forwardData(f: Frontend, p: Packet & { type: typeof PacketType.DATA }): void {
    const b = f.backend!;
    const ok = this.toAgent(b, p);
    if (b.peerWindow !== undefined) {
      f.toAgent += p.data.data.length;
      if (f.toAgent >= b.peerWindow) this.pauseLeg(f);
    } else if (!ok) {
      this.pauseLeg(f);
      b.waiting.add(f);
    }
  }

  private serveFrontend(stream: Stream): void {
    const f = this.newFrontend(new GrpcLeg(stream));
    this.metrics.grpcConnections.inc({ service_method: 'Proxy' });
    let done = false;
    const cleanup = (): void => {
      if (done) return;
      done = true;
      this.metrics.grpcConnections.dec({ service_method: 'Proxy' });
      this.frontendGone(f);
      f.leg.end();
    };
    stream.on('data', (p: Packet) => {
      if (!f.closing && !done) this.fromFrontend(f, p);
    });
    stream.on('end', cleanup);
    stream.on('close', cleanup);
  }

  private fromFrontend(f: Frontend, p: Packet): void {
    this.count('from_client', p);
    switch (p.type) {
      case PacketType.DIAL_REQ: {
        const { random } = p.dialRequest;
        if (f.random !== undefined) {
          this.toFrontend(f, {
            type: PacketType.DIAL_RSP,
            dialResponse: { random, connectID: 0n, error: 'single-use stream: already dialed' },
          });
          return;
        }
        if (!this.dial(f, p)) this.failDial(f, 'no_agent', random, 'No agent available');
        return;
      }
      case PacketType.DATA: {
        const id = p.data.connectID;
        if (id === 0n) return;
        if (!f.backend || f.connectID === undefined) {
          this.toFrontend(f, {
            type: PacketType.CLOSE_RSP,
            closeResponse: { connectID: id, error: 'backend not initialized' },
          });
          f.closing = true;
          return;
        }
        if (id !== f.connectID) {
          for (const connectID of [f.connectID, id]) {
            this.toAgent(f.backend, { type: PacketType.CLOSE_REQ, closeRequest: { connectID } });
            this.toFrontend(f, {
              type: PacketType.CLOSE_RSP,
              closeResponse: { connectID, error: 'mismatched connection IDs' },
            });
          }
          this.forget(f.backend, f);
          f.closing = true;
          return;
        }
        this.forwardData(f, p);
        return;
      }
      case PacketType.CLOSE_REQ: {
        const id = p.closeRequest.connectID;
        if (!f.backend) {
          this.toFrontend(f, {
            type: PacketType.CLOSE_RSP,
            closeResponse: { connectID: id, error: 'backend uninitialized' },
          });
        } else {
          this.toAgent(f.backend, p);
        }
        f.closing = true;
        return;
      }
      case PacketType.DIAL_CLS: {
        const dial = this.pending.get(p.closeDial.random);
        if (!dial || dial.frontend !== f) return; // Unrecognized dial cancelled
        this.dropPending(p.closeDial.random);
        this.metrics.dialFailures.inc({ reason: 'frontend_close' });
        // Upstream does not tell the agent; ours acts on it, and the late-DIAL_RSP path still covers Go agents.
        this.toAgent(dial.backend, p);
        // The stream is single-use and its dial is gone: end it, so a client that never finishes its side (a
        // cancel racing the call's start in grpc-js) does not leave both ends of the stream open for ever.
        f.closing = true;
        f.leg.end();
        return;
      }
      default:
        return;
    }
  }

  private serveConnect(req: IncomingMessage, socket: Socket, head: Buffer): void {
    this.metrics.httpConnections.inc();
    const address = req.url ?? ''; // the request-target of the CONNECT line, never the Host header
    const random = randomInt63();
    const leg = new ConnectLeg(socket, () => {
      const connectID = f.connectID!;
      const max = maxDataBytesFor(f.backend?.peerWindow);
      const send = (chunk: Buffer): void => {
        for (const data of dataPieces(chunk, max))
          if (!f.closing && f.backend)
            this.forwardData(f, { type: PacketType.DATA, data: { connectID, error: '', data } });
      };
      if (head.length) send(head);
      socket.on('data', send);
    });
    const f = this.newFrontend(leg);
    socket.on('error', () => socket.destroy());
    // No half-close in the protocol (reference §2.5): the frontend's EOF ends the connection on the node too.
    socket.once('end', () => {
      this.frontendGone(f);
      socket.end();
    });
    socket.once('close', () => {
      this.metrics.httpConnections.dec();
      this.frontendGone(f);
    });
    if (!this.dial(f, { type: PacketType.DIAL_REQ, dialRequest: { protocol: 'tcp', address, random } })) {
      this.metrics.dialFailures.inc({ reason: 'no_agent' });
      httpError(socket, 500, 'currently no tunnels available: No agent available');
    }
  }
}

// The konnectivity agent core (upstream's pkg/agent/client.go): one outbound `AgentService/Connect` stream to one
// server, on a TCP connection of its own. The agent owns connectIDs (a counter per stream, from 1), dials TCP for
// each DIAL_REQ the allow-list permits, and relays bytes until either side closes; there is no half-close
// (reference §2.5). Several servers and reconnecting: ./clientset.ts. Per-connection flow control: ../flow.ts.
import type { ClientHttp2Session } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { silentLogger, type Logger } from '../../lib/log.js';
import { tickCorkedWriter } from '../../lib/relay.js';
import { CreditBatcher, dataPieces, defaultWindowBytes, maxDataBytesFor, parseWindow, windowHeader } from '../flow.js';
import { ClientCall, connectTunnelSession, keepSessionAlive, type GrpcError } from '../proto/grpc.js';
import { agentServiceDefinition, PacketType, type Packet } from '../proto/packet.js';
import type { AllowList } from './allow-list.js';
import type { AgentMetrics } from './metrics.js';

/** Upstream's hard-coded agent dial timeout; peers assume it. */
const DIAL_TIMEOUT_MS = 5_000;

const packetNames: Record<number, string> = Object.fromEntries(Object.entries(PacketType).map(([k, v]) => [v, k]));

export interface ProxyAgentOptions {
  /** `host:port` of the server's agent port. */
  serverAddress: string;
  /** PEM bundle that verifies the server's certificate (`--ca-cert`). */
  caCert: string;
  /** Overrides the name checked against the server's certificate. */
  serverName?: string;
  /** `--agent-cert` / `--agent-key`: a client certificate for servers that authenticate agents by mTLS. */
  agentCert?: string;
  agentKey?: string;
  agentID: string;
  /** `agentidentifiers`, a URL query string such as `host=node1&ipv4=10.0.0.5`; may be empty. */
  agentIdentifiers: string;
  /** Read on every connect, so a rotated projected token is picked up (upstream re-reads the file). */
  token?: () => string | Promise<string>;
  allow: AllowList;
  /** --keepalive-time: gRPC pings toward the server. @default 30 s */
  keepaliveTimeMs?: number;
  /** A server that does not answer a ping within this is dead: the stream and its connections close. @default 15 s */
  keepaliveTimeoutMs?: number;
  /** The server must authenticate us and send its headers within this. @default 10 s */
  connectTimeoutMs?: number;
  /** Per-connection receive window announced to the server. @default 4 MiB (../flow.ts) */
  windowBytes?: number;
  metrics?: AgentMetrics;
  log?: Logger;
}

export interface ServerInfo {
  serverID: string;
  serverCount: number;
}

interface Endpoint {
  socket: Socket;
  /** Writes to the socket, the DATA of one tick as one writev (src/lib/relay.ts). */
  write: ReturnType<typeof tickCorkedWriter>;
  closed: boolean;
  /** node→server bytes not yet credited by the server. */
  toServer: number;
  /** server→node bytes handed to the socket, not yet written. */
  unwritten: number;
  credit?: CreditBatcher;
  pausedForWindow: boolean;
}

export class ProxyAgent {
  private readonly log: Logger;
  private session?: ClientHttp2Session;
  private stream?: ClientCall;
  private nextConnectID = 0n;
  private readonly endpoints = new Map<bigint, Endpoint>();
  /** random → the socket still dialling, so DIAL_CLS can abort it. */
  private readonly dialing = new Map<bigint, Socket>();
  /** Sockets paused until the stream drains (a server without windows). */
  private readonly paused = new Set<Socket>();
  /** Endpoints whose unwritten bytes paused the stream (a server without windows: upstream's head-of-line). */
  private readonly blockedBy = new Set<Endpoint>();
  /** The server's per-connection window: set when it is ours, undefined for upstream's server. */
  private peerWindow: number | undefined;
  private readonly window: number;
  private isClosed = false;
  private resolveClosed!: () => void;
  /** Resolves once the stream is gone (server lost, keepalive failed, or close()). */
  readonly closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));

  constructor(private readonly options: ProxyAgentOptions) {
    this.log = options.log ?? silentLogger;
    this.window = options.windowBytes ?? defaultWindowBytes;
  }

  /** Connections open to endpoints on this stream (a leak check). */
  get openConnections(): number {
    return this.endpoints.size + this.dialing.size;
  }

  /** Opens the stream; resolves once the server has authenticated us and sent `serverid` / `servercount`. */
  async connect(): Promise<ServerInfo> {
    const o = this.options;
    const metadata: Record<string, string> = {
      agentid: o.agentID,
      agentidentifiers: o.agentIdentifiers,
      [windowHeader]: String(this.window),
    };
    try {
      if (o.token) metadata.authorization = `Bearer ${await o.token()}`;
    } catch (err) {
      this.lost();
      throw err;
    }
    // One TCP connection per stream: an L4 load balancer places each attempt on its own (reference §5).
    const session = connectTunnelSession(`https://${o.serverAddress}`, {
      ca: o.caCert,
      ...(o.agentCert && o.agentKey ? { cert: o.agentCert, key: o.agentKey } : {}),
      ...(o.serverName ? { servername: o.serverName } : {}),
      minVersion: 'TLSv1.2',
    });
    this.session = session;
    keepSessionAlive(session, { timeMs: o.keepaliveTimeMs ?? 30_000, timeoutMs: o.keepaliveTimeoutMs ?? 15_000 });
    const stream = new ClientCall(session, agentServiceDefinition.Connect.path, metadata);
    this.stream = stream;
    return new Promise((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        reject(
          new Error(
            `connect to konnectivity server ${o.serverAddress}: no headers after ${o.connectTimeoutMs ?? 10_000} ms`
          )
        );
        this.close();
      }, o.connectTimeoutMs ?? 10_000);
      stream.on('metadata', (header: Record<string, string | string[] | undefined>) => {
        clearTimeout(timer);
        const serverID = header.serverid;
        const serverCount = Number(header.servercount);
        if (typeof serverID !== 'string' || serverID === '' || !Number.isInteger(serverCount)) {
          reject(new Error('server sent no serverid/servercount header'));
          this.close();
          return;
        }
        this.peerWindow = parseWindow(header[windowHeader]);
        ready = true;
        resolve({ serverID, serverCount });
      });
      stream.on('data', (p: Packet) => this.fromServer(p));
      stream.on('drain', () => {
        for (const socket of this.paused) socket.resume();
        this.paused.clear();
      });
      stream.on('error', (err: GrpcError) => {
        clearTimeout(timer);
        if (!ready) reject(new Error(`connect to konnectivity server ${o.serverAddress}: ${err.message}`));
        this.lost();
      });
      stream.on('end', () => this.lost());
      stream.on('close', () => this.lost());
    });
  }

  /** Upstream's DRAIN: this agent is about to stop, so the server sends new dials elsewhere. */
  drain(): void {
    this.send({ type: PacketType.DRAIN });
  }

  /** Closes the stream and every endpoint connection. */
  close(): void {
    this.stream?.cancel();
    this.lost();
  }

  private lost(): void {
    for (const socket of this.dialing.values()) socket.destroy();
    this.dialing.clear();
    for (const e of this.endpoints.values()) {
      e.closed = true;
      e.socket.destroy();
    }
    this.options.metrics?.openEndpointConnections.dec(this.endpoints.size);
    this.endpoints.clear();
    this.paused.clear();
    this.blockedBy.clear();
    this.session?.destroy();
    if (!this.isClosed) {
      this.isClosed = true;
      this.resolveClosed();
    }
  }

  /** @returns false when the stream's buffer is full (the caller should stop reading until `drain`). */
  private send(p: Packet): boolean {
    const s = this.stream;
    if (s === undefined || s.writableEnded || s.destroyed) return false;
    this.options.metrics?.streamPackets.inc({ segment: 'to_server', packet_type: packetNames[p.type] ?? '' });
    return s.write(p);
  }

  private fromServer(p: Packet): void {
    this.options.metrics?.streamPackets.inc({ segment: 'from_server', packet_type: packetNames[p.type] ?? '' });
    switch (p.type) {
      case PacketType.DIAL_REQ:
        this.dial(p.dialRequest.random, p.dialRequest.protocol, p.dialRequest.address);
        return;
      case PacketType.DATA: {
        const id = p.data.connectID;
        if (id === 0n) return;
        const e = this.endpoints.get(id);
        if (!e) {
          this.send({ type: PacketType.CLOSE_RSP, closeResponse: { connectID: id, error: 'unrecognized connectID' } });
          return;
        }
        this.toEndpoint(id, e, p.data.data);
        return;
      }
      case PacketType.CLOSE_REQ: {
        const id = p.closeRequest.connectID;
        if (this.endpoints.has(id)) this.closeEndpoint(id);
        else this.send({ type: PacketType.CLOSE_RSP, closeResponse: { connectID: id, error: 'Unknown connectID' } });
        return;
      }
      case PacketType.DIAL_CLS: {
        // The Go agent ignores this; we stop the dial so no socket outlives a cancelled request.
        const socket = this.dialing.get(p.closeDial.random);
        this.dialing.delete(p.closeDial.random);
        socket?.destroy();
        return;
      }
      case PacketType.WINDOW_UPDATE: {
        const e = this.endpoints.get(p.windowUpdate.connectID);
        if (!e) return;
        e.toServer = Math.max(0, e.toServer - p.windowUpdate.bytes);
        if (e.pausedForWindow && e.toServer < (this.peerWindow ?? 0)) {
          e.pausedForWindow = false;
          e.socket.resume();
        }
        return;
      }
      default:
        return;
    }
  }

  /** server→node bytes: credit goes back once the socket has written them. */
  private toEndpoint(connectID: bigint, e: Endpoint, data: Buffer): void {
    const n = data.length;
    e.unwritten += n;
    e.write(data, () => {
      e.unwritten -= n;
      const grant = e.credit?.delivered(n) ?? 0;
      if (grant > 0 && !e.closed)
        this.send({ type: PacketType.WINDOW_UPDATE, windowUpdate: { connectID, bytes: grant } });
      if (this.blockedBy.has(e) && e.unwritten <= this.window / 2) this.unblock(e);
    });
    // Bounded even toward a server that ignores windows (upstream's): the stream waits for this one socket.
    const limit = this.peerWindow === undefined ? this.window : 2 * this.window;
    if (e.unwritten > limit && !this.blockedBy.has(e)) {
      this.blockedBy.add(e);
      this.stream?.pause();
    }
  }

  private unblock(e: Endpoint): void {
    if (this.blockedBy.delete(e) && this.blockedBy.size === 0) this.stream?.resume();
  }

  private dial(random: bigint, protocol: string, address: string): void {
    const connectID = ++this.nextConnectID;
    const m = this.options.metrics;
    const fail = (error: string, reason?: 'timeout' | 'unknown'): void => {
      this.log.info({ address, error }, 'dial refused or failed');
      if (reason) m?.endpointDialFailures.inc({ reason });
      this.send({ type: PacketType.DIAL_RSP, dialResponse: { random, connectID: 0n, error } });
    };
    if (protocol !== 'tcp') return fail(`dial ${protocol} ${address}: protocol not supported`);
    const match = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
    if (!match) return fail(`dial tcp ${address}: missing port in address`);
    const host = match[1]!;
    const port = Number(match[2]);
    if (!this.options.allow(host, port)) return fail(`dial tcp ${address}: not in this agent's allow-list`);

    const started = process.hrtime.bigint();
    // No Nagle (Go's default too): what the far end wrote as two pieces (a TLS record, a frame header and its
    // payload) must not wait here for the ACK of the first — with delayed ACKs a 1-byte round trip took 44 ms.
    const socket = connect({ host, port, noDelay: true });
    this.dialing.set(random, socket);
    const timer = setTimeout(() => socket.destroy(new Error('i/o timeout')), DIAL_TIMEOUT_MS);
    const onDialError = (err: Error): void => {
      clearTimeout(timer);
      if (this.dialing.get(random) !== socket) return; // cancelled by DIAL_CLS: nobody waits for an answer
      this.dialing.delete(random);
      fail(`dial tcp ${address}: ${err.message}`, err.message === 'i/o timeout' ? 'timeout' : 'unknown');
    };
    socket.once('error', onDialError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onDialError);
      if (this.dialing.get(random) !== socket || this.isClosed) {
        socket.destroy();
        return;
      }
      this.dialing.delete(random);
      m?.dialDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
      m?.openEndpointConnections.inc();
      const e: Endpoint = {
        socket,
        write: tickCorkedWriter(socket),
        closed: false,
        toServer: 0,
        unwritten: 0,
        pausedForWindow: false,
      };
      if (this.peerWindow !== undefined) e.credit = new CreditBatcher(this.window);
      this.endpoints.set(connectID, e);
      this.send({ type: PacketType.DIAL_RSP, dialResponse: { random, connectID, error: '' } });
      socket.on('data', (chunk: Buffer) => this.fromEndpoint(connectID, e, chunk));
      // Remote EOF or error ends the whole connection: an unsolicited CLOSE_RSP tells the server.
      socket.on('error', () => this.closeEndpoint(connectID));
      socket.on('close', () => this.closeEndpoint(connectID));
    });
  }

  /** node→server bytes: within the server's window for this connection, or the stream's backpressure. */
  private fromEndpoint(connectID: bigint, e: Endpoint, chunk: Buffer): void {
    let ok = true;
    const max = maxDataBytesFor(this.peerWindow);
    for (const data of dataPieces(chunk, max))
      ok = this.send({ type: PacketType.DATA, data: { connectID, error: '', data } });
    if (this.peerWindow !== undefined) {
      e.toServer += chunk.length;
      if (e.toServer >= this.peerWindow && !e.pausedForWindow) {
        e.pausedForWindow = true;
        e.socket.pause();
      }
    } else if (!ok) {
      e.socket.pause();
      this.paused.add(e.socket);
    }
  }

  /** Upstream's cleanup(): once per connection, CLOSE_RSP then close the socket. */
  private closeEndpoint(connectID: bigint): void {
    const e = this.endpoints.get(connectID);
    if (!e || e.closed) return;
    e.closed = true;
    this.endpoints.delete(connectID);
    this.options.metrics?.openEndpointConnections.dec();
    this.paused.delete(e.socket);
    this.unblock(e);
    this.send({ type: PacketType.CLOSE_RSP, closeResponse: { connectID, error: '' } });
    e.socket.destroy();
  }
}

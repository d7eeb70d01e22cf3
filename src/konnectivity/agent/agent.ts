// The konnectivity agent core (upstream's pkg/agent/client.go): one outbound `AgentService/Connect` stream to one
// server. The agent owns connectIDs (a counter per stream, from 1), dials TCP for each DIAL_REQ the allow-list
// permits, and relays bytes until either side closes; there is no half-close (reference §2.5). Reconnecting,
// several servers (servercount) and keepalives belong to the layer above and are not here yet.
import { connect, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { silentLogger, type Logger } from '../../lib/log.js';
import { AgentServiceClient, PacketType, type Packet } from '../proto/packet.js';
import type { AllowList } from './allow-list.js';

/** Upstream's hard-coded agent dial timeout; peers assume it. */
const DIAL_TIMEOUT_MS = 5_000;

export interface ProxyAgentOptions {
  /** `host:port` of the server's agent port. */
  serverAddress: string;
  /** PEM bundle that verifies the server's certificate (`--ca-cert`). */
  caCert: string;
  /** Overrides the name checked against the server's certificate. */
  serverName?: string;
  agentID: string;
  /** `agentidentifiers`, a URL query string such as `host=node1&ipv4=10.0.0.5`; may be empty. */
  agentIdentifiers: string;
  /** Read on every connect, so a rotated projected token is picked up (upstream re-reads the file). */
  token: () => string | Promise<string>;
  allow: AllowList;
  log?: Logger;
}

export interface ServerInfo {
  serverID: string;
  serverCount: number;
}

interface Endpoint {
  socket: Socket;
  closed: boolean;
}

type Stream = grpc.ClientDuplexStream<Packet, Packet>;

export class ProxyAgent {
  private readonly log: Logger;
  private client?: grpc.Client;
  private stream?: Stream;
  private nextConnectID = 0n;
  private readonly endpoints = new Map<bigint, Endpoint>();
  /** random → the socket still dialling, so DIAL_CLS can abort it. */
  private readonly dialing = new Map<bigint, Socket>();
  private readonly paused = new Set<Socket>();

  constructor(private readonly options: ProxyAgentOptions) {
    this.log = options.log ?? silentLogger;
  }

  /** Opens the stream; resolves once the server has authenticated us and sent `serverid` / `servercount`. */
  async connect(): Promise<ServerInfo> {
    const o = this.options;
    const channelOptions: grpc.ChannelOptions = o.serverName ? { 'grpc.ssl_target_name_override': o.serverName } : {};
    const client = new AgentServiceClient(
      o.serverAddress,
      grpc.credentials.createSsl(Buffer.from(o.caCert)),
      channelOptions
    );
    this.client = client;
    const md = new grpc.Metadata();
    md.set('agentid', o.agentID);
    md.set('agentidentifiers', o.agentIdentifiers);
    md.set('authorization', `Bearer ${await o.token()}`);
    const stream = (client as unknown as { Connect(md: grpc.Metadata): Stream }).Connect(md);
    this.stream = stream;
    return new Promise((resolve, reject) => {
      let ready = false;
      stream.on('metadata', (header: grpc.Metadata) => {
        const serverID = header.get('serverid');
        const serverCount = Number(header.get('servercount')[0]);
        if (serverID.length !== 1 || !Number.isInteger(serverCount)) {
          reject(new Error('server sent no serverid/servercount header'));
          stream.cancel();
          return;
        }
        ready = true;
        resolve({ serverID: String(serverID[0]), serverCount });
      });
      stream.on('data', (p: Packet) => this.fromServer(p));
      stream.on('drain', () => {
        for (const socket of this.paused) socket.resume();
        this.paused.clear();
      });
      stream.on('error', (err: grpc.ServiceError) => {
        if (!ready)
          reject(new Error(`connect to konnectivity server ${o.serverAddress}: ${err.details || err.message}`));
        this.lost();
      });
      stream.on('end', () => this.lost());
    });
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
    this.endpoints.clear();
    this.paused.clear();
    this.client?.close();
  }

  /** @returns false when the stream's buffer is full (the caller should stop reading until `drain`). */
  private send(p: Packet): boolean {
    const s = this.stream;
    return s !== undefined && !s.writableEnded && !s.destroyed && s.write(p);
  }

  private fromServer(p: Packet): void {
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
        e.socket.write(p.data.data);
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
      default:
        return;
    }
  }

  private dial(random: bigint, protocol: string, address: string): void {
    const connectID = ++this.nextConnectID;
    const fail = (error: string): void => {
      this.log.info({ address, error }, 'dial refused or failed');
      this.send({ type: PacketType.DIAL_RSP, dialResponse: { random, connectID: 0n, error } });
    };
    if (protocol !== 'tcp') return fail(`dial ${protocol} ${address}: protocol not supported`);
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
    if (!m) return fail(`dial tcp ${address}: missing port in address`);
    const host = m[1]!;
    const port = Number(m[2]);
    if (!this.options.allow(host, port)) return fail(`dial tcp ${address}: not in this agent's allow-list`);

    const socket = connect({ host, port });
    this.dialing.set(random, socket);
    const timer = setTimeout(() => socket.destroy(new Error('i/o timeout')), DIAL_TIMEOUT_MS);
    const onDialError = (err: Error): void => {
      clearTimeout(timer);
      if (this.dialing.get(random) !== socket) return; // cancelled by DIAL_CLS: nobody waits for an answer
      this.dialing.delete(random);
      fail(`dial tcp ${address}: ${err.message}`);
    };
    socket.once('error', onDialError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onDialError);
      if (this.dialing.get(random) !== socket) {
        socket.destroy();
        return;
      }
      this.dialing.delete(random);
      this.endpoints.set(connectID, { socket, closed: false });
      this.send({ type: PacketType.DIAL_RSP, dialResponse: { random, connectID, error: '' } });
      // Bounded: a socket whose DATA the stream cannot take yet stops being read until the stream drains.
      socket.on('data', (chunk: Buffer) => {
        if (this.send({ type: PacketType.DATA, data: { connectID, error: '', data: chunk } })) return;
        socket.pause();
        this.paused.add(socket);
      });
      // Remote EOF or error ends the whole connection: an unsolicited CLOSE_RSP tells the server.
      socket.on('error', () => this.closeEndpoint(connectID));
      socket.on('close', () => this.closeEndpoint(connectID));
    });
  }

  /** Upstream's cleanup(): once per connection, CLOSE_RSP then close the socket. */
  private closeEndpoint(connectID: bigint): void {
    const e = this.endpoints.get(connectID);
    if (!e || e.closed) return;
    e.closed = true;
    this.endpoints.delete(connectID);
    this.paused.delete(e.socket);
    this.send({ type: PacketType.CLOSE_RSP, closeResponse: { connectID, error: '' } });
    e.socket.destroy();
  }
}

// The konnectivity server core (upstream's pkg/server/server.go): agents open `AgentService/Connect` over TLS and
// become backends; the API server opens one `ProxyService/Proxy` stream per dial over a Unix socket. The server
// relays DIAL_REQ / DIAL_RSP / DATA / CLOSE_* between the two legs unchanged, keyed as upstream keys them:
// pending dials by `random` (globally), established connections by (agent stream, connectID). Reference §2.
import * as grpc from '@grpc/grpc-js';
import { silentLogger, type Logger } from '../../lib/log.js';
import { PacketType, agentServiceDefinition, proxyServiceDefinition, type Packet } from '../proto/packet.js';
import { BackendManager, parseAgentIdentifiers, type Backend } from './backends.js';

export interface ProxyServerOptions {
  /** Sent to agents in the `serverid` header; they deduplicate servers on it. */
  serverID: string;
  /** Sent as `servercount`: how many distinct servers an agent should hold. @default 1 */
  serverCount?: number;
  /**
   * Checks the agent's bearer token before any header is sent (the real one is a TokenReview with audience
   * `system:konnectivity-server`). Rejects with the reason on failure.
   */
  authenticateAgent: (token: string) => Promise<void>;
  log?: Logger;
}

type Stream = grpc.ServerDuplexStream<Packet, Packet>;

/** One `Proxy` stream: a single-use dial, as upstream's frontend protocol has it. */
interface Frontend {
  readonly stream: Stream;
  backend?: Backend;
  random?: bigint;
  connectID?: bigint;
  /** After CLOSE_REQ upstream stops reading the stream but keeps it open for the CLOSE_RSP. */
  closing: boolean;
}

interface PendingDial {
  frontend: Frontend;
  backend: Backend;
}

function send(stream: Stream, p: Packet): void {
  if (!stream.writableEnded && !stream.destroyed) stream.write(p);
}

function metadataValue(md: grpc.Metadata, key: string): string | undefined {
  const values = md.get(key);
  return values.length === 1 ? String(values[0]) : undefined;
}

export class ProxyServer {
  private readonly log: Logger;
  private readonly backends = new BackendManager();
  private readonly pending = new Map<bigint, PendingDial>();
  /** Per agent stream: connectID → the frontend it belongs to. */
  private readonly established = new Map<Backend, Map<bigint, Frontend>>();
  private readonly grpcServers: grpc.Server[] = [];

  constructor(private readonly options: ProxyServerOptions) {
    this.log = options.log ?? silentLogger;
  }

  /** Number of distinct connected agents (readiness is "at least one"). */
  get readyBackends(): number {
    return this.backends.size;
  }

  /** Serves `AgentService/Connect` over TLS. @returns the bound port (pass 0 to pick one). */
  listenAgents(address: string, tls: { cert: string; key: string }): Promise<number> {
    const server = new grpc.Server();
    server.addService(agentServiceDefinition, { Connect: (s: Stream) => void this.serveAgent(s) });
    const creds = grpc.ServerCredentials.createSsl(null, [
      { cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) },
    ]);
    return this.bind(server, address, creds);
  }

  /** Serves `ProxyService/Proxy` on a Unix socket (no TLS: the socket's file mode is the access control). */
  async listenFrontend(udsPath: string): Promise<void> {
    const server = new grpc.Server();
    server.addService(proxyServiceDefinition, { Proxy: (s: Stream) => this.serveFrontend(s) });
    await this.bind(server, `unix:${udsPath}`, grpc.ServerCredentials.createInsecure());
  }

  private bind(server: grpc.Server, address: string, creds: grpc.ServerCredentials): Promise<number> {
    this.grpcServers.push(server);
    return new Promise((resolve, reject) =>
      server.bindAsync(address, creds, (err, port) => (err ? reject(err) : resolve(port)))
    );
  }

  /** Stops at once (upstream's default `--graceful-shutdown-timeout=0`). */
  close(): void {
    for (const s of this.grpcServers.splice(0)) s.forceShutdown();
  }

  private async serveAgent(stream: Stream): Promise<void> {
    const md = stream.metadata;
    const agentID = metadataValue(md, 'agentid');
    if (agentID === undefined) {
      return this.refuse(stream, grpc.status.INVALID_ARGUMENT, 'expected one agent ID in the context');
    }
    const identifiers = parseAgentIdentifiers(metadataValue(md, 'agentidentifiers') ?? '');
    const auth = metadataValue(md, 'authorization');
    if (auth === undefined || !auth.startsWith('Bearer ')) {
      return this.refuse(stream, grpc.status.UNAUTHENTICATED, `agent ${agentID}: no bearer token`);
    }
    try {
      await this.options.authenticateAgent(auth.slice('Bearer '.length));
    } catch (err) {
      return this.refuse(stream, grpc.status.UNAUTHENTICATED, `agent ${agentID}: ${(err as Error).message}`);
    }
    if (stream.cancelled) return;
    const header = new grpc.Metadata();
    header.set('serverid', this.options.serverID);
    header.set('servercount', String(this.options.serverCount ?? 1));
    stream.sendMetadata(header);

    const backend: Backend = { agentID, identifiers, stream, draining: false };
    this.backends.add(backend);
    this.established.set(backend, new Map());
    this.log.info({ agentID, identifiers }, 'agent connected');
    let gone = false;
    const disconnect = (): void => {
      if (gone) return;
      gone = true;
      this.removeBackend(backend);
      if (!stream.writableEnded) stream.end();
    };
    stream.on('data', (p: Packet) => this.fromAgent(backend, p));
    stream.on('end', disconnect);
    stream.on('error', disconnect);
    stream.on('cancelled', disconnect);
    stream.on('close', disconnect);
  }

  private refuse(stream: Stream, code: grpc.status, details: string): void {
    this.log.warn({ reason: details }, 'agent refused');
    stream.emit('error', { code, details });
  }

  /** Upstream leaves pending dials of a lost agent hanging (TODO #126); we fail them at once. */
  private removeBackend(backend: Backend): void {
    this.backends.remove(backend);
    for (const [random, dial] of this.pending) {
      if (dial.backend !== backend) continue;
      this.pending.delete(random);
      send(dial.frontend.stream, {
        type: PacketType.DIAL_RSP,
        dialResponse: { random, connectID: 0n, error: `agent ${backend.agentID} disconnected` },
      });
      dial.frontend.stream.end();
    }
    for (const [connectID, frontend] of this.established.get(backend) ?? []) {
      send(frontend.stream, { type: PacketType.CLOSE_RSP, closeResponse: { connectID, error: '' } });
    }
    this.established.delete(backend);
    this.log.info({ agentID: backend.agentID }, 'agent disconnected');
  }

  private fromAgent(backend: Backend, p: Packet): void {
    const conns = this.established.get(backend)!;
    switch (p.type) {
      case PacketType.DIAL_RSP: {
        const { random, connectID, error } = p.dialResponse;
        const dial = this.pending.get(random);
        if (!dial || dial.backend !== backend) {
          // The frontend gave up: free the agent's socket (reference §2.6, the only cleanup path upstream has).
          if (connectID !== 0n) send(backend.stream, { type: PacketType.CLOSE_REQ, closeRequest: { connectID } });
          return;
        }
        this.pending.delete(random);
        send(dial.frontend.stream, p);
        if (error === '') {
          dial.frontend.connectID = connectID;
          conns.set(connectID, dial.frontend);
        }
        return;
      }
      case PacketType.DATA: {
        const id = p.data.connectID;
        if (id === 0n) return;
        const frontend = conns.get(id);
        if (frontend) send(frontend.stream, p);
        else send(backend.stream, { type: PacketType.CLOSE_REQ, closeRequest: { connectID: id } });
        return;
      }
      case PacketType.CLOSE_RSP: {
        const frontend = conns.get(p.closeResponse.connectID);
        if (!frontend) return; // assuming it is already closed
        conns.delete(p.closeResponse.connectID);
        send(frontend.stream, p);
        return;
      }
      case PacketType.DIAL_CLS: {
        const dial = this.pending.get(p.closeDial.random);
        if (!dial || dial.backend !== backend) return;
        this.pending.delete(p.closeDial.random);
        send(dial.frontend.stream, p);
        return;
      }
      case PacketType.DRAIN:
        backend.draining = true;
        return;
      default:
        return; // other types are not sent by agents; upstream ignores them too
    }
  }

  private serveFrontend(stream: Stream): void {
    const f: Frontend = { stream, closing: false };
    let done = false;
    const cleanup = (): void => {
      if (done) return;
      done = true;
      if (f.random !== undefined && this.pending.get(f.random)?.frontend === f) {
        this.pending.delete(f.random);
        if (f.backend) send(f.backend.stream, { type: PacketType.DIAL_CLS, closeDial: { random: f.random } });
      }
      if (f.backend && f.connectID !== undefined) {
        const conns = this.established.get(f.backend);
        if (conns?.get(f.connectID) === f) {
          conns.delete(f.connectID);
          send(f.backend.stream, { type: PacketType.CLOSE_REQ, closeRequest: { connectID: f.connectID } });
        }
      }
      if (!stream.writableEnded) stream.end();
    };
    stream.on('data', (p: Packet) => {
      if (!f.closing && !done) this.fromFrontend(f, p);
    });
    stream.on('end', cleanup);
    stream.on('error', cleanup);
    stream.on('cancelled', cleanup);
    stream.on('close', cleanup);
  }

  private fromFrontend(f: Frontend, p: Packet): void {
    switch (p.type) {
      case PacketType.DIAL_REQ: {
        const { random, address } = p.dialRequest;
        if (f.random !== undefined) {
          send(f.stream, {
            type: PacketType.DIAL_RSP,
            dialResponse: { random, connectID: 0n, error: 'single-use stream: already dialed' },
          });
          return;
        }
        const backend = this.backends.pick(address);
        if (!backend) {
          send(f.stream, {
            type: PacketType.DIAL_RSP,
            dialResponse: { random, connectID: 0n, error: 'No agent available' },
          });
          f.closing = true;
          f.stream.end();
          return;
        }
        f.random = random;
        f.backend = backend;
        this.pending.set(random, { frontend: f, backend });
        send(backend.stream, p);
        return;
      }
      case PacketType.DATA: {
        const id = p.data.connectID;
        if (id === 0n) return;
        if (!f.backend || f.connectID === undefined) {
          send(f.stream, {
            type: PacketType.CLOSE_RSP,
            closeResponse: { connectID: id, error: 'backend not initialized' },
          });
          f.closing = true;
          return;
        }
        if (id !== f.connectID) {
          for (const connectID of [f.connectID, id]) {
            send(f.backend.stream, { type: PacketType.CLOSE_REQ, closeRequest: { connectID } });
            send(f.stream, {
              type: PacketType.CLOSE_RSP,
              closeResponse: { connectID, error: 'mismatched connection IDs' },
            });
          }
          this.established.get(f.backend)?.delete(f.connectID);
          f.closing = true;
          return;
        }
        send(f.backend.stream, p);
        return;
      }
      case PacketType.CLOSE_REQ: {
        const id = p.closeRequest.connectID;
        if (!f.backend) {
          send(f.stream, {
            type: PacketType.CLOSE_RSP,
            closeResponse: { connectID: id, error: 'backend uninitialized' },
          });
        } else {
          send(f.backend.stream, p);
        }
        f.closing = true;
        return;
      }
      case PacketType.DIAL_CLS: {
        const dial = this.pending.get(p.closeDial.random);
        if (!dial || dial.frontend !== f) return; // Unrecognized dial cancelled
        this.pending.delete(p.closeDial.random);
        // Upstream does not tell the agent; ours acts on it, and the late-DIAL_RSP path still covers Go agents.
        send(dial.backend.stream, p);
        return;
      }
      default:
        return;
    }
  }
}

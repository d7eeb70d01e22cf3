// Test helpers shared by the konnectivity tests (not used by the product): TLS material, a packet reader, a gRPC
// frontend that dials through the server, and a TCP relay that can freeze like a half-dead link.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { createCA, issueCertificate, type CertKeyPair } from '../pki/index.js';
import { agentServiceDefinition, PacketType, proxyServiceDefinition, type Packet } from './proto/packet.js';

/** grpc-js clients of the two services: the tests' real gRPC peer of our node:http2 transport. */
export const ProxyServiceClient = grpc.makeGenericClientConstructor(proxyServiceDefinition, 'ProxyService');
export const AgentServiceClient = grpc.makeGenericClientConstructor(agentServiceDefinition, 'AgentService');

export type ClientStream = grpc.ClientDuplexStream<Packet, Packet>;

/** Reads a stream's packets in order, failing a test that waits too long. */
export function reader(stream: ClientStream): (timeoutMs?: number) => Promise<Packet> {
  const queue: Packet[] = [];
  const waiters: ((p: Packet) => void)[] = [];
  stream.on('data', (p: Packet) => (waiters.length ? waiters.shift()!(p) : queue.push(p)));
  stream.on('error', () => {}); // ended by the test or the server; assertions are on packets
  return (timeoutMs = 5000) =>
    new Promise((resolve, reject) => {
      if (queue.length) return resolve(queue.shift()!);
      const timer = setTimeout(() => reject(new Error('timed out waiting for a packet')), timeoutMs);
      waiters.push((p) => {
        clearTimeout(timer);
        resolve(p);
      });
    });
}

export async function listen(server: Server, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

export interface TestPKI {
  ca: CertKeyPair;
  /** The server's certificate: DNS name `konnectivity-server`, IP 127.0.0.1. */
  serverTLS: { cert: string; key: string };
  client(commonName: string): Promise<{ cert: string; key: string }>;
}

export async function testPKI(): Promise<TestPKI> {
  const ca = await createCA({ commonName: 'konnectivity-test-ca' });
  const serverTLS = await issueCertificate({
    ca,
    commonName: 'konnectivity-server',
    dnsNames: ['konnectivity-server'],
    ipAddresses: ['127.0.0.1'],
    usages: ['server'],
    validityMs: 3_600_000,
  });
  return {
    ca,
    serverTLS,
    client: (commonName) => issueCertificate({ ca, commonName, usages: ['client'], validityMs: 3_600_000 }),
  };
}

/** A gRPC frontend (what the API server's egress dialer is) on the server's Unix socket. */
export function grpcFrontend(uds: string): {
  client: grpc.Client;
  open(): { stream: ClientStream; next: ReturnType<typeof reader> };
} {
  const client = new ProxyServiceClient(`unix:${uds}`, grpc.credentials.createInsecure());
  return {
    client,
    open() {
      const stream = (client as unknown as { Proxy(): ClientStream }).Proxy();
      return { stream, next: reader(stream) };
    },
  };
}

/** DIAL_REQ → DIAL_RSP on a fresh `Proxy` stream. @returns the stream and its connectID */
export async function dialThrough(
  f: ReturnType<typeof grpcFrontend>,
  address: string,
  random: bigint
): Promise<{ stream: ClientStream; next: ReturnType<typeof reader>; connectID: bigint }> {
  const { stream, next } = f.open();
  stream.write({ type: PacketType.DIAL_REQ, dialRequest: { protocol: 'tcp', address, random } });
  const rsp = await next();
  if (rsp.type !== PacketType.DIAL_RSP || rsp.dialResponse.error !== '')
    throw new Error(
      `dial ${address} failed: ${JSON.stringify(rsp, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`
    );
  return { stream, next, connectID: rsp.dialResponse.connectID };
}

/**
 * A TCP relay to one of `targets` (round robin, like an L4 load balancer in front of several servers). `freeze()`
 * stops moving bytes without closing anything: a half-dead link only keepalives can detect.
 */
export class TcpRelay {
  private readonly server: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  private next = 0;
  frozen = false;

  constructor(public targets: number[]) {
    this.server = createServer((inbound) => {
      const port = this.targets[this.next++ % this.targets.length]!;
      const outbound = connect({ host: '127.0.0.1', port });
      const pair: [Socket, Socket] = [inbound, outbound];
      this.pairs.add(pair);
      const drop = (): void => {
        this.pairs.delete(pair);
        inbound.destroy();
        outbound.destroy();
      };
      for (const [a, b] of [pair, [outbound, inbound] as const]) {
        a.on('data', (d: Buffer) => {
          if (!this.frozen) b.write(d);
        });
        a.on('error', drop);
        a.on('close', drop);
      }
    });
  }

  listen(): Promise<number> {
    return listen(this.server);
  }

  close(): void {
    this.server.close();
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
  }
}

/** A bare agent stream (no ProxyAgent): the test sees every DIAL_REQ and answers, or not, by hand. */
export async function bareAgent(
  port: number,
  pki: TestPKI,
  agentID: string,
  identifiers: string
): Promise<{ client: grpc.Client; stream: ClientStream; next: ReturnType<typeof reader> }> {
  const client = new AgentServiceClient(`127.0.0.1:${port}`, grpc.credentials.createSsl(Buffer.from(pki.ca.cert)), {
    'grpc.ssl_target_name_override': 'konnectivity-server',
  });
  const md = new grpc.Metadata();
  md.set('agentid', agentID);
  md.set('agentidentifiers', identifiers);
  md.set('authorization', 'Bearer token');
  const stream = (client as unknown as { Connect(md: grpc.Metadata): ClientStream }).Connect(md);
  const next = reader(stream);
  await new Promise((resolve) => stream.once('metadata', resolve));
  return { client, stream, next };
}

/** Sends `CONNECT address` on `socket` (as kube-apiserver does: Host is not the target) and reads the reply head. */
export function httpConnect(socket: Socket, address: string): Promise<{ status: number; head: string; rest: Buffer }> {
  socket.write(`CONNECT ${address} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\n\r\n`);
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const head = buf.subarray(0, end).toString();
      resolve({ status: Number(head.split(' ')[1]), head, rest: buf.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`closed after ${JSON.stringify(buf.toString())}`)));
  });
}

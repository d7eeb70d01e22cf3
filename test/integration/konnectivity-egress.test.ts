// The API server's GRPC and HTTPConnect egress dialers against the real konnectivity server and agent in one
// process: agent leg TLS on 127.0.0.1, frontends on Unix sockets, the dialled endpoint a local TCP echo server.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { test, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { StatusError } from '../../src/api/errors.js';
import { HTTPConnectDialer } from '../../src/apiserver/egress/http-connect.js';
import { KonnectivityDialer } from '../../src/apiserver/egress/konnectivity.js';
import { ProxyAgent } from '../../src/konnectivity/agent/agent.js';
import { allowList } from '../../src/konnectivity/agent/allow-list.js';
import { PacketType, type Packet } from '../../src/konnectivity/proto/packet.js';
import { AgentServiceClient } from '../../src/konnectivity/testing.js';
import { ProxyServer } from '../../src/konnectivity/server/server.js';
import { createCA, issueCertificate } from '../../src/pki/index.js';
import { eventually } from '../framework/api.js';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function setup(t: TestContext) {
  const ca = await createCA({ commonName: 'egress-test-ca' });
  const tls = await issueCertificate({
    ca,
    commonName: 'konnectivity-server',
    dnsNames: ['konnectivity-server'],
    usages: ['server'],
    validityMs: 3_600_000,
  });
  const dir = mkdtempSync(join(tmpdir(), 'egress-'));
  const grpcUDS = join(dir, 'konnectivity-server.socket');
  const connectUDS = join(dir, 'konnectivity-connect.socket');
  const server = new ProxyServer({
    serverID: 'server-1',
    authenticateAgent: async (token) => {
      if (token !== 'good') throw new Error('token not accepted');
    },
  });
  const agentPort = await server.listenAgents('127.0.0.1:0', tls);
  await server.listenFrontend(grpcUDS);
  await server.listenHTTPConnect({ udsPath: connectUDS });
  const endpoints: Socket[] = [];
  const echo = createServer((s) => {
    endpoints.push(s);
    s.on('error', () => {});
    s.pipe(s);
  });
  const echoPort = await listen(echo);
  const grpcDialer = new KonnectivityDialer({ udsName: grpcUDS });
  t.after(() => {
    grpcDialer.close();
    for (const s of endpoints) s.destroy();
    server.close();
    echo.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const agent = async (identifiers: string) => {
    const a = new ProxyAgent({
      serverAddress: `127.0.0.1:${agentPort}`,
      caCert: ca.cert,
      serverName: 'konnectivity-server',
      agentID: identifiers,
      agentIdentifiers: identifiers,
      token: () => 'good',
      allow: allowList([`127.0.0.1:${echoPort}`]),
    });
    t.after(() => a.close());
    await a.connect();
    return a;
  };
  return { ca, tls, agentPort, server, echoPort, endpoints, grpcDialer, connectUDS, grpcUDS, agent };
}

/** Writes `text` and reads until as many bytes came back; the connection stays open. */
function roundTrip(conn: Duplex, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (chunk: Buffer): void => {
      got += String(chunk);
      if (got.length < text.length) return;
      conn.off('data', onData);
      conn.off('error', reject);
      conn.pause();
      resolve(got);
    };
    conn.on('data', onData);
    conn.once('error', reject);
    conn.resume();
    conn.write(text);
  });
}

const status = (code: number, message: RegExp) => (err: unknown) => {
  if (!(err instanceof StatusError)) assert.fail(`not a StatusError: ${String(err)}`);
  assert.equal(err.code, code);
  assert.match(err.message, message);
  return true;
};

test('GRPC dialer: bytes echo through the tunnel; ending the connection closes the node-side socket', async (t) => {
  const { agent, grpcDialer, echoPort, endpoints, server } = await setup(t);
  await agent('host=node1&ipv4=127.0.0.1');
  const conn = await grpcDialer.dial('tcp', `127.0.0.1:${echoPort}`);
  const big = 'x'.repeat(300_000); // more than one DATA packet and one flow-control window
  assert.ok((await roundTrip(conn, big)) === big, 'the echo is the bytes sent');
  // Two dials at once share the one connection to the server, one stream each.
  const [a, b] = await Promise.all([1, 2].map(() => grpcDialer.dial('tcp', `127.0.0.1:${echoPort}`)));
  assert.equal(await roundTrip(a!, 'A'), 'A');
  assert.equal(await roundTrip(b!, 'B'), 'B');
  for (const c of [conn, a!, b!]) c.destroy();
  await eventually('the node-side sockets are closed', async () => {
    // No bare assert.ok here: a failing one re-parses tsx's one-line output for its message (seconds each).
    return (endpoints.length >= 3 && endpoints.every((s) => s.closed) && server.establishedCount === 0) || undefined;
  });
});

test('GRPC dialer: the node side closing ends the connection', async (t) => {
  const { agent, grpcDialer, echoPort, endpoints } = await setup(t);
  await agent('ipv4=127.0.0.1');
  const conn = await grpcDialer.dial('tcp', `127.0.0.1:${echoPort}`);
  assert.equal(await roundTrip(conn, 'hi'), 'hi');
  endpoints[0]!.destroy();
  conn.resume();
  await once(conn, 'close');
});

test('GRPC dialer: no agent → 503 "no tunnel"; allow-list refusal → 503 with the agent\'s error', async (t) => {
  const { agent, grpcDialer, echoPort } = await setup(t);
  await assert.rejects(
    grpcDialer.dial('tcp', `127.0.0.1:${echoPort}`),
    status(503, /no tunnel to the node: no konnectivity agent serves 127\.0\.0\.1:\d+/)
  );
  await agent('ipv4=127.0.0.1');
  await assert.rejects(
    grpcDialer.dial('tcp', `127.0.0.1:${echoPort + 1}`),
    status(503, /konnectivity: dial tcp 127\.0\.0\.1:\d+: not in this agent's allow-list/)
  );
});

test('GRPC dialer: an agent that never answers → 504 at the dial timeout, and the pending dial is dropped', async (t) => {
  const { agentPort, ca, grpcDialer, server } = await setup(t);
  // A silent agent: authenticates, then ignores every DIAL_REQ.
  const client = new AgentServiceClient(`127.0.0.1:${agentPort}`, grpc.credentials.createSsl(Buffer.from(ca.cert)), {
    'grpc.ssl_target_name_override': 'konnectivity-server',
  });
  t.after(() => client.close());
  const md = new grpc.Metadata();
  md.set('agentid', 'silent');
  md.set('agentidentifiers', 'ipv4=127.0.0.9');
  md.set('authorization', 'Bearer good');
  const stream = (client as unknown as { Connect(md: grpc.Metadata): grpc.ClientDuplexStream<Packet, Packet> }).Connect(
    md
  );
  stream.on('error', () => {});
  const dialed = new Promise<void>((resolve) =>
    stream.on('data', (p: Packet) => p.type === PacketType.DIAL_REQ && resolve())
  );
  await once(stream, 'metadata');
  await assert.rejects(
    grpcDialer.dial('tcp', '127.0.0.9:10250', { timeoutMs: 300 }),
    status(504, /dial tcp 127\.0\.0\.9:10250: i\/o timeout/)
  );
  await dialed;
  await eventually('the server forgot the dial', async () => server.pendingDials === 0 || undefined);
});

test('GRPC dialer: no konnectivity server at the socket → 503 naming it', async (t) => {
  const dialer = new KonnectivityDialer({ udsName: join(tmpdir(), `no-such-${process.pid}.socket`) });
  t.after(() => dialer.close());
  await assert.rejects(dialer.dial('tcp', '127.0.0.1:1'), status(503, /konnectivity server at unix:.*no-such-/));
});

test("HTTPConnect dialer over UDS: 200 → the socket; no agent → the server's status and reason", async (t) => {
  const { agent, connectUDS, echoPort } = await setup(t);
  const dialer = new HTTPConnectDialer({ udsName: connectUDS });
  await assert.rejects(
    dialer.dial('tcp', `127.0.0.1:${echoPort}`),
    status(503, /proxy unix:.*: HTTP\/1\.1 5\d\d .*No agent available/)
  );
  await agent('ipv4=127.0.0.1');
  const conn = await dialer.dial('tcp', `127.0.0.1:${echoPort}`);
  assert.equal(await roundTrip(conn, 'over CONNECT'), 'over CONNECT');
  conn.destroy();
});

test('HTTPConnect dialer over mTLS TCP: the client certificate is required and verified', async (t) => {
  const { agent, server, ca, tls, echoPort } = await setup(t);
  const port = await server.listenHTTPConnect({ host: '127.0.0.1', port: 0, tls: { ...tls, ca: ca.cert } });
  await agent('ipv4=127.0.0.1');
  const client = await issueCertificate({ ca, commonName: 'apiserver', usages: ['client'], validityMs: 3_600_000 });
  const url = `https://127.0.0.1:${port}`;
  const dialer = new HTTPConnectDialer({
    url,
    tls: { ca: ca.cert, cert: client.cert, key: client.key, servername: 'konnectivity-server' },
  });
  const conn = await dialer.dial('tcp', `127.0.0.1:${echoPort}`);
  assert.equal(await roundTrip(conn, 'over mTLS'), 'over mTLS');
  conn.destroy();
  const rogueCA = await createCA({ commonName: 'rogue' });
  const rogue = await issueCertificate({ ca: rogueCA, commonName: 'x', usages: ['client'], validityMs: 3_600_000 });
  const refused = new HTTPConnectDialer({
    url,
    tls: { ca: ca.cert, cert: rogue.cert, key: rogue.key, servername: 'konnectivity-server' },
  });
  await assert.rejects(refused.dial('tcp', `127.0.0.1:${echoPort}`), status(503, /proxy https:\/\/127\.0\.0\.1/));
});

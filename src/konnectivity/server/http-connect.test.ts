// The HTTP-CONNECT frontend over a Unix socket and over mTLS TCP, the backend dial timeout on both frontends, and
// upstream's answers to malformed or out-of-order packets.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { ProxyAgent } from '../agent/agent.js';
import { allowList } from '../agent/allow-list.js';
import { PacketType } from '../proto/packet.js';
import { bareAgent, grpcFrontend, httpConnect, listen, testPKI } from '../testing.js';
import { ProxyServer } from './server.js';

async function setup(t: TestContext, backendDialTimeoutMs = 0) {
  const pki = await testPKI();
  const dir = mkdtempSync(join(tmpdir(), 'konnectivity-connect-'));
  const server = new ProxyServer({ serverID: 's1', authenticateAgent: async () => {}, backendDialTimeoutMs });
  const agentPort = await server.listenAgents('127.0.0.1:0', pki.serverTLS);
  const connectUDS = join(dir, 'connect.socket');
  await server.listenHTTPConnect({ udsPath: connectUDS });
  const grpcUDS = join(dir, 'grpc.socket');
  await server.listenFrontend(grpcUDS);
  const frontendTLS = await testPKI(); // the frontend's own CA, as upstream's --server-ca-cert
  const tcpPort = await server.listenHTTPConnect({
    host: '127.0.0.1',
    port: 0,
    tls: { ...frontendTLS.serverTLS, ca: frontendTLS.ca.cert },
  });
  const echo = createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  const echoPort = await listen(echo);
  const sockets: Socket[] = [];
  const frontend = grpcFrontend(grpcUDS);
  const cleanup: (() => void)[] = [];
  t.after(() => {
    for (const c of cleanup) c();
    for (const s of sockets) s.destroy();
    frontend.client.close();
    server.close();
    echo.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const agent = async (allow = [`127.0.0.1:${echoPort}`]) => {
    const a = new ProxyAgent({
      serverAddress: `127.0.0.1:${agentPort}`,
      caCert: pki.ca.cert,
      serverName: 'konnectivity-server',
      agentID: 'node1',
      agentIdentifiers: 'ipv4=127.0.0.1',
      token: () => 't',
      allow: allowList(allow),
    });
    cleanup.push(() => a.close());
    await a.connect();
  };
  const bare = async () => {
    const b = await bareAgent(agentPort, pki, 'node1', 'ipv4=127.0.0.1');
    cleanup.push(() => b.client.close());
    return b;
  };
  const uds = () => {
    const s = netConnect(connectUDS);
    sockets.push(s);
    return s;
  };
  const tcp = async (withCert = true) => {
    const cert = withCert ? await frontendTLS.client('kube-apiserver') : undefined;
    const s = tlsConnect({
      host: '127.0.0.1',
      port: tcpPort,
      ca: frontendTLS.ca.cert,
      servername: 'konnectivity-server',
      ...cert,
    });
    s.on('error', () => {});
    sockets.push(s);
    return s;
  };
  return { server, agent, bare, uds, tcp, echoPort, frontend };
}

async function roundTrip(s: Socket, text: string): Promise<string> {
  s.write(text);
  return new Promise((resolve) => s.once('data', (d: Buffer) => resolve(d.toString())));
}

test('CONNECT over a Unix socket and over mTLS TCP: routed on the request line, 200 then raw bytes', async (t) => {
  const { agent, uds, tcp, echoPort, server } = await setup(t);
  await agent();
  const a = uds();
  const rsp = await httpConnect(a, `127.0.0.1:${echoPort}`);
  assert.equal(rsp.head, 'HTTP/1.1 200 Connection Established');
  assert.equal(rsp.rest.length, 0, 'nothing after the 200');
  assert.equal(await roundTrip(a, 'over uds'), 'over uds');
  const b = await tcp();
  assert.equal((await httpConnect(b, `127.0.0.1:${echoPort}`)).status, 200);
  assert.equal(await roundTrip(b, 'over mtls'), 'over mtls');
  assert.equal(server.establishedCount, 2);
  a.end();
  b.end();
  const deadline = Date.now() + 5000;
  while (server.establishedCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.establishedCount, 0, 'closing the CONNECT socket closes the connection on the node');
  // No client certificate: the TLS handshake fails, nothing is proxied.
  const anonymous = await tcp(false);
  await assert.rejects(httpConnect(anonymous, `127.0.0.1:${echoPort}`));
});

test('CONNECT: 200 only once the agent answered; dial errors become statuses with the error as body', async (t) => {
  const { bare, uds } = await setup(t);
  const node = await bare();
  const s = uds();
  let early = '';
  s.on('data', (d: Buffer) => (early += d.toString()));
  s.write('CONNECT 127.0.0.1:10250 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  const req = await node.next();
  assert.equal(req.type, PacketType.DIAL_REQ);
  if (req.type !== PacketType.DIAL_REQ) return;
  assert.equal(req.dialRequest.address, '127.0.0.1:10250', 'the request line, not the Host header');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(early, '', 'no reply before the DIAL_RSP');
  node.stream.write({
    type: PacketType.DIAL_RSP,
    dialResponse: {
      random: req.dialRequest.random,
      connectID: 0n,
      error: 'dial tcp 127.0.0.1:10250: connect: connection refused',
    },
  });
  await new Promise((r) => s.once('close', r));
  assert.match(early, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
  assert.match(early, /\r\n\r\ndial tcp 127\.0\.0\.1:10250: connect: connection refused$/);
});

test('CONNECT: outside the allow-list → 502 naming it; no agent → 500; not CONNECT → 405', async (t) => {
  const { agent, uds, echoPort } = await setup(t);
  const none = uds();
  const rsp = await httpConnect(none, `127.0.0.1:${echoPort}`);
  assert.equal(rsp.status, 500);
  assert.match(rsp.rest.toString(), /currently no tunnels available: No agent available/);
  await agent([]);
  const refused = uds();
  const r = await httpConnect(refused, `127.0.0.1:${echoPort}`);
  assert.equal(r.status, 502);
  assert.match(r.rest.toString(), /not in this agent's allow-list/);
  const get = uds();
  get.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  const text = await new Promise<string>((resolve) => {
    let b = '';
    get.on('data', (d: Buffer) => (b += d.toString()));
    get.on('close', () => resolve(b));
  });
  assert.match(text, /^HTTP\/1\.1 405 /);
  assert.match(text, /this proxy only supports CONNECT passthrough/);
});

test('--backend-dial-timeout: an unanswered dial fails (CONNECT 504, gRPC DIAL_RSP error) and the agent gets DIAL_CLS', async (t) => {
  const { bare, uds, frontend, server } = await setup(t, 300);
  const node = await bare();
  const s = uds();
  const rsp = await httpConnect(s, '127.0.0.1:10250');
  assert.equal(rsp.status, 504);
  const { stream, next } = frontend.open();
  stream.write({
    type: PacketType.DIAL_REQ,
    dialRequest: { protocol: 'tcp', address: '127.0.0.1:10250', random: 42n },
  });
  assert.deepEqual(await next(), {
    type: PacketType.DIAL_RSP,
    dialResponse: { random: 42n, connectID: 0n, error: 'timed out waiting for backend dial' },
  });
  const seen = [await node.next(), await node.next(), await node.next(), await node.next()].map((p) => p.type);
  assert.deepEqual(seen, [PacketType.DIAL_REQ, PacketType.DIAL_CLS, PacketType.DIAL_REQ, PacketType.DIAL_CLS]);
  assert.equal(server.pendingDials, 0);
});

test('out-of-order packets are answered as upstream answers them; other connections are undisturbed', async (t) => {
  const { bare, frontend } = await setup(t);
  const node = await bare();
  // A healthy connection that must survive everything below.
  const okStream = frontend.open();
  okStream.stream.write({
    type: PacketType.DIAL_REQ,
    dialRequest: { protocol: 'tcp', address: '127.0.0.1:1', random: 1n },
  });
  assert.equal((await node.next()).type, PacketType.DIAL_REQ);
  node.stream.write({ type: PacketType.DIAL_RSP, dialResponse: { random: 1n, connectID: 1n, error: '' } });
  assert.equal((await okStream.next()).type, PacketType.DIAL_RSP);

  // DIAL_RSP for an unknown dial → CLOSE_REQ for its connectID.
  node.stream.write({ type: PacketType.DIAL_RSP, dialResponse: { random: 999n, connectID: 7n, error: '' } });
  assert.deepEqual(await node.next(), { type: PacketType.CLOSE_REQ, closeRequest: { connectID: 7n } });
  // DATA from the agent for an unknown connectID → CLOSE_REQ.
  node.stream.write({ type: PacketType.DATA, data: { connectID: 8n, error: '', data: Buffer.from('x') } });
  assert.deepEqual(await node.next(), { type: PacketType.CLOSE_REQ, closeRequest: { connectID: 8n } });
  // A second dial on a single-use stream → DIAL_RSP error, and no DIAL_REQ reaches the agent.
  okStream.stream.write({
    type: PacketType.DIAL_REQ,
    dialRequest: { protocol: 'tcp', address: '127.0.0.1:1', random: 2n },
  });
  assert.deepEqual(await okStream.next(), {
    type: PacketType.DIAL_RSP,
    dialResponse: { random: 2n, connectID: 0n, error: 'single-use stream: already dialed' },
  });
  // CLOSE_REQ before any dial → CLOSE_RSP "backend uninitialized".
  const early = frontend.open();
  early.stream.write({ type: PacketType.CLOSE_REQ, closeRequest: { connectID: 3n } });
  assert.deepEqual(await early.next(), {
    type: PacketType.CLOSE_RSP,
    closeResponse: { connectID: 3n, error: 'backend uninitialized' },
  });
  // The healthy connection still relays both ways.
  okStream.stream.write({ type: PacketType.DATA, data: { connectID: 1n, error: '', data: Buffer.from('still') } });
  assert.deepEqual(await node.next(), {
    type: PacketType.DATA,
    data: { connectID: 1n, error: '', data: Buffer.from('still') },
  });
  node.stream.write({ type: PacketType.DATA, data: { connectID: 1n, error: '', data: Buffer.from('here') } });
  assert.deepEqual(await okStream.next(), {
    type: PacketType.DATA,
    data: { connectID: 1n, error: '', data: Buffer.from('here') },
  });
  // Mismatched connection IDs on one stream → CLOSE_REQ ×2 to the agent, CLOSE_RSP ×2 to the frontend.
  okStream.stream.write({ type: PacketType.DATA, data: { connectID: 5n, error: '', data: Buffer.from('y') } });
  const toAgent = [await node.next(), await node.next()];
  assert.deepEqual(toAgent, [
    { type: PacketType.CLOSE_REQ, closeRequest: { connectID: 1n } },
    { type: PacketType.CLOSE_REQ, closeRequest: { connectID: 5n } },
  ]);
  assert.deepEqual(await okStream.next(), {
    type: PacketType.CLOSE_RSP,
    closeResponse: { connectID: 1n, error: 'mismatched connection IDs' },
  });
});

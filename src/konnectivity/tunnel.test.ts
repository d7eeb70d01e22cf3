// A konnectivity server, a real agent and a gRPC frontend client in one process: the agent leg is TLS on
// 127.0.0.1, the frontend leg a Unix socket, the dialled endpoint a local TCP echo server.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createCA, issueCertificate } from '../pki/index.js';
import { PacketType } from './proto/packet.js';
import { ProxyServer } from './server/server.js';
import { ProxyAgent } from './agent/agent.js';
import { allowList } from './agent/allow-list.js';
import { AgentServiceClient, listen, ProxyServiceClient, reader, type ClientStream as Stream } from './testing.js';

async function setup(t: TestContext) {
  const ca = await createCA({ commonName: 'konnectivity-test-ca' });
  const tls = await issueCertificate({
    ca,
    commonName: 'konnectivity-server',
    dnsNames: ['konnectivity-server'],
    ipAddresses: ['127.0.0.1'],
    usages: ['server'],
    validityMs: 3_600_000,
  });
  const dir = mkdtempSync(join(tmpdir(), 'konnectivity-'));
  const uds = join(dir, 'konnectivity-server.socket');
  const server = new ProxyServer({
    serverID: 'server-1',
    serverCount: 1,
    authenticateAgent: async (token) => {
      if (token !== 'good-token') throw new Error('token not accepted');
    },
  });
  const agentPort = await server.listenAgents('127.0.0.1:0', tls);
  await server.listenFrontend(uds);
  const echo = createServer((s) => s.pipe(s));
  const echoPort = await listen(echo);
  const clients: grpc.Client[] = [];
  t.after(() => {
    for (const c of clients) c.close();
    server.close();
    echo.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const agent = (agentID: string, identifiers: string, token = 'good-token', allow = [`127.0.0.1:${echoPort}`]) => {
    const a = new ProxyAgent({
      serverAddress: `127.0.0.1:${agentPort}`,
      caCert: ca.cert,
      serverName: 'konnectivity-server',
      agentID,
      agentIdentifiers: identifiers,
      token: () => token,
      allow: allowList(allow),
    });
    t.after(() => a.close());
    return a;
  };
  const frontend = () => {
    const c = new ProxyServiceClient(`unix:${uds}`, grpc.credentials.createInsecure());
    clients.push(c);
    const stream = (c as unknown as { Proxy(): Stream }).Proxy();
    return { stream, next: reader(stream) };
  };
  return { ca, agentPort, echoPort, server, agent, frontend, clients };
}

test('a dial through the tunnel reaches a TCP echo server; bytes echo; CLOSE_REQ gets CLOSE_RSP', async (t) => {
  const { agent, frontend, echoPort } = await setup(t);
  assert.deepEqual(await agent('node1', 'host=node1&ipv4=127.0.0.1').connect(), {
    serverID: 'server-1',
    serverCount: 1,
  });
  const { stream, next } = frontend();
  const random = (1n << 63n) - 12345n; // above 2^53: must come back exact
  stream.write({
    type: PacketType.DIAL_REQ,
    dialRequest: { protocol: 'tcp', address: `127.0.0.1:${echoPort}`, random },
  });
  const rsp = await next();
  assert.deepEqual(rsp, { type: PacketType.DIAL_RSP, dialResponse: { error: '', connectID: 1n, random } });

  const payload = Buffer.from('hello through the tunnel');
  stream.write({ type: PacketType.DATA, data: { connectID: 1n, error: '', data: payload } });
  let echoed = Buffer.alloc(0);
  while (echoed.length < payload.length) {
    const p = await next();
    assert.equal(p.type, PacketType.DATA);
    if (p.type !== PacketType.DATA) return;
    assert.equal(p.data.connectID, 1n);
    echoed = Buffer.concat([echoed, p.data.data]);
  }
  assert.equal(echoed.toString(), payload.toString());

  stream.write({ type: PacketType.CLOSE_REQ, closeRequest: { connectID: 1n } });
  assert.deepEqual(await next(), { type: PacketType.CLOSE_RSP, closeResponse: { error: '', connectID: 1n } });
});

test('a dial outside the agent allow-list gets a DIAL_RSP error', async (t) => {
  const { agent, frontend, echoPort } = await setup(t);
  await agent('node1', 'ipv4=127.0.0.1').connect();
  const { stream, next } = frontend();
  stream.write({
    type: PacketType.DIAL_REQ,
    dialRequest: { protocol: 'tcp', address: `127.0.0.1:${echoPort + 1}`, random: 77n },
  });
  const rsp = await next();
  assert.equal(rsp.type, PacketType.DIAL_RSP);
  if (rsp.type !== PacketType.DIAL_RSP) return;
  assert.equal(rsp.dialResponse.random, 77n);
  assert.equal(rsp.dialResponse.connectID, 0n);
  assert.match(rsp.dialResponse.error, /not in this agent's allow-list/);
});

test('no agent → "No agent available"; DATA before any dial → CLOSE_RSP "backend not initialized"', async (t) => {
  const { frontend } = await setup(t);
  const a = frontend();
  a.stream.write({ type: PacketType.DIAL_REQ, dialRequest: { protocol: 'tcp', address: '127.0.0.1:1', random: 5n } });
  assert.deepEqual(await a.next(), {
    type: PacketType.DIAL_RSP,
    dialResponse: { error: 'No agent available', connectID: 0n, random: 5n },
  });
  const b = frontend();
  b.stream.write({ type: PacketType.DATA, data: { connectID: 9n, error: '', data: Buffer.from('x') } });
  assert.deepEqual(await b.next(), {
    type: PacketType.CLOSE_RSP,
    closeResponse: { error: 'backend not initialized', connectID: 9n },
  });
});

test('an agent with a bad token is refused before any header', async (t) => {
  const { agent, server } = await setup(t);
  await assert.rejects(agent('node1', '', 'forged').connect(), /token not accepted/);
  assert.equal(server.readyBackends, 0);
});

test('dials route by agent identifiers; killing the agent fails its pending dial at once', async (t) => {
  const { agent, frontend, ca, agentPort, clients } = await setup(t);
  await agent('node1', 'host=node1&ipv4=127.0.0.1').connect();
  // node2's agent is a bare stream that takes DIAL_REQs and never answers, so the dial stays pending.
  const node2 = new AgentServiceClient(`127.0.0.1:${agentPort}`, grpc.credentials.createSsl(Buffer.from(ca.cert)), {
    'grpc.ssl_target_name_override': 'konnectivity-server',
  });
  clients.push(node2);
  const md = new grpc.Metadata();
  md.set('agentid', 'node2');
  md.set('agentidentifiers', 'host=node2');
  md.set('authorization', 'Bearer good-token');
  const node2Stream = (node2 as unknown as { Connect(md: grpc.Metadata): Stream }).Connect(md);
  const node2Next = reader(node2Stream);
  await new Promise((resolve) => node2Stream.once('metadata', resolve));

  const { stream, next } = frontend();
  const random = (1n << 62n) + 1n;
  stream.write({ type: PacketType.DIAL_REQ, dialRequest: { protocol: 'tcp', address: 'node2:10250', random } });
  assert.deepEqual(await node2Next(), {
    type: PacketType.DIAL_REQ,
    dialRequest: { protocol: 'tcp', address: 'node2:10250', random },
  });

  const killed = Date.now();
  node2.close();
  node2Stream.cancel();
  const rsp = await next(2000);
  assert.ok(Date.now() - killed < 2000);
  assert.deepEqual(rsp, {
    type: PacketType.DIAL_RSP,
    dialResponse: { error: 'agent node2 disconnected', connectID: 0n, random },
  });
});

test('1 MiB echoes intact; the endpoint closing sends an unsolicited CLOSE_RSP', async (t) => {
  const { agent, frontend, echoPort } = await setup(t);
  const bye = createServer((s) => s.end('bye'));
  const byePort = await listen(bye);
  t.after(() => bye.close());
  await agent('node1', 'ipv4=127.0.0.1', 'good-token', [`127.0.0.1:${echoPort}`, `127.0.0.1:${byePort}`]).connect();

  const a = frontend();
  a.stream.write({
    type: PacketType.DIAL_REQ,
    dialRequest: { protocol: 'tcp', address: `127.0.0.1:${echoPort}`, random: 1n },
  });
  const rsp = await a.next();
  assert.equal(rsp.type, PacketType.DIAL_RSP);
  if (rsp.type !== PacketType.DIAL_RSP) return;
  const connectID = rsp.dialResponse.connectID;
  const sent = Buffer.alloc(1 << 20);
  for (let i = 0; i < sent.length; i++) sent[i] = (i * 7) & 0xff;
  for (let off = 0; off < sent.length; off += 16384) {
    a.stream.write({ type: PacketType.DATA, data: { connectID, error: '', data: sent.subarray(off, off + 16384) } });
  }
  const chunks: Buffer[] = [];
  let got = 0;
  while (got < sent.length) {
    const p = await a.next();
    assert.equal(p.type, PacketType.DATA);
    if (p.type !== PacketType.DATA) return;
    chunks.push(p.data.data);
    got += p.data.data.length;
  }
  assert.ok(Buffer.concat(chunks).equals(sent));

  const b = frontend();
  b.stream.write({
    type: PacketType.DIAL_REQ,
    dialRequest: { protocol: 'tcp', address: `127.0.0.1:${byePort}`, random: 2n },
  });
  const rspB = await b.next();
  assert.equal(rspB.type, PacketType.DIAL_RSP);
  if (rspB.type !== PacketType.DIAL_RSP) return;
  const idB = rspB.dialResponse.connectID;
  assert.deepEqual(await b.next(), {
    type: PacketType.DATA,
    data: { connectID: idB, error: '', data: Buffer.from('bye') },
  });
  assert.deepEqual(await b.next(), { type: PacketType.CLOSE_RSP, closeResponse: { error: '', connectID: idB } });
});

test('a frontend that goes away closes its endpoint connection on the node', async (t) => {
  const { agent, frontend } = await setup(t);
  let endpointClosed!: () => void;
  const closed = new Promise<void>((resolve) => (endpointClosed = resolve));
  const sink = createServer((s) => {
    s.on('close', endpointClosed);
    s.on('error', () => {});
  });
  const sinkPort = await listen(sink);
  t.after(() => sink.close());
  await agent('node1', 'ipv4=127.0.0.1', 'good-token', [`127.0.0.1:${sinkPort}`]).connect();
  const { stream, next } = frontend();
  stream.write({
    type: PacketType.DIAL_REQ,
    dialRequest: { protocol: 'tcp', address: `127.0.0.1:${sinkPort}`, random: 3n },
  });
  assert.equal((await next()).type, PacketType.DIAL_RSP);
  stream.cancel();
  await Promise.race([
    closed,
    new Promise((_, reject) => setTimeout(() => reject(new Error('endpoint socket still open')), 3000)),
  ]);
});

// Port-forward with this library on both ends against real TCP servers: many ports and concurrent connections
// checked by hash, a refused dial that ends only its own connection, and the legacy WebSocket framing.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { createServer as createTCPServer, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { dialSpdy, dialWebSocket } from '../dial.js';
import { dialLocal } from '../testdata/fake-apiserver.js';
import { PORT_FORWARD_PROTOCOL, RemoteCommandProtocol } from '../upgrade.js';
import { PortForwardClient } from './client.js';
import { acceptPortForward, parsePortForwardPorts, type PortForwardServerOptions } from './server.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function echoServer(t: TestContext): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createTCPServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('error', () => s.destroy());
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

async function closedPort(): Promise<number> {
  const server = createTCPServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

async function pfServer(
  t: TestContext,
  options: Partial<PortForwardServerOptions> = {}
): Promise<{ base: string; dialErrors: number[] }> {
  const dialErrors: number[] = [];
  const server = createServer((_req, res) => res.writeHead(400).end());
  const sockets = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    void acceptPortForward(req, socket, head, {
      dial: dialLocal,
      ports: parsePortForwardPorts(new URL(req.url!, 'http://x').searchParams),
      onDialError: (port) => dialErrors.push(port),
      ...options,
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, dialErrors };
}

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('SPDY: two ports, 24 concurrent connections, data checked by hash both ways', async (t) => {
  const [p1, p2] = [await echoServer(t), await echoServer(t)];
  const { base } = await pfServer(t);
  const { connection, protocol } = await dialSpdy(`${base}/portForward/ns/pod`, [PORT_FORWARD_PROTOCOL]);
  t.after(() => connection.destroy());
  assert.equal(protocol, PORT_FORWARD_PROTOCOL);
  const client = new PortForwardClient(connection);
  const results = await Promise.all(
    Array.from({ length: 24 }, async (_, i) => {
      const { data, error } = await client.open(i % 2 ? p1 : p2);
      const payload = randomBytes(200_000 + i * 1000);
      data.end(payload);
      const back = await readAll(data);
      return { ok: sha(back) === sha(payload), error: await error };
    })
  );
  assert.deepEqual(
    results,
    Array.from({ length: 24 }, () => ({ ok: true, error: '' }))
  );
});

test('SPDY: a refused dial ends only that connection; the session keeps forwarding', async (t) => {
  const good = await echoServer(t);
  const bad = await closedPort();
  const { base, dialErrors } = await pfServer(t);
  const { connection } = await dialSpdy(`${base}/portForward/ns/pod`, [PORT_FORWARD_PROTOCOL]);
  t.after(() => connection.destroy());
  const client = new PortForwardClient(connection);
  const refused = await client.open(bad);
  assert.equal((await readAll(refused.data)).length, 0);
  assert.equal(await refused.error, '', 'nothing on the error stream: kubectl would drop the whole session');
  assert.deepEqual(dialErrors, [bad]);
  const after = await client.open(good);
  after.data.end('still here');
  assert.equal((await readAll(after.data)).toString(), 'still here');
  assert.equal(connection.closed, false);
});

test('SPDY: with reportDialErrors the message goes on the error stream, as upstream', async (t) => {
  const bad = await closedPort();
  const { base } = await pfServer(t, { reportDialErrors: true });
  const { connection } = await dialSpdy(`${base}/portForward/ns/pod`, [PORT_FORWARD_PROTOCOL]);
  t.after(() => connection.destroy());
  const refused = await new PortForwardClient(connection).open(bad);
  refused.data.resume();
  assert.match(await refused.error, new RegExp(`error forwarding port ${bad} to pod: .*ECONNREFUSED`));
});

test('SPDY: a stream with a bad port or type is reset, the session stays', async (t) => {
  const { base } = await pfServer(t);
  const { connection } = await dialSpdy(`${base}/portForward/ns/pod`, [PORT_FORWARD_PROTOCOL]);
  t.after(() => connection.destroy());
  await assert.rejects(connection.openStream({ streamtype: 'data', port: '70000', requestid: '0' }), /reset/);
  await assert.rejects(connection.openStream({ streamtype: 'bogus', port: '80', requestid: '1' }), /reset/);
  assert.ok((await connection.ping()) >= 0);
});

test('legacy WebSocket: ports in the query, the port number first on each channel, data on channel 2i', async (t) => {
  const [p1, p2] = [await echoServer(t), await echoServer(t)];
  const { base } = await pfServer(t);
  const { ws, protocol } = await dialWebSocket(`${base}/portForward/ns/pod?port=${p1},${p2}`, [
    RemoteCommandProtocol.V4,
  ]);
  t.after(() => ws.terminate());
  assert.equal(protocol, RemoteCommandProtocol.V4);
  const byChannel = new Map<number, Buffer[]>();
  ws.on('message', (m: Buffer) => byChannel.set(m[0]!, [...(byChannel.get(m[0]!) ?? []), m.subarray(1)]));
  ws.resume();
  const portOf = (b: Buffer): number => b.readUInt16LE(0);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(portOf(byChannel.get(0)![0]!), p1);
  assert.equal(portOf(byChannel.get(1)![0]!), p1);
  assert.equal(portOf(byChannel.get(2)![0]!), p2);
  assert.equal(portOf(byChannel.get(3)![0]!), p2);
  ws.send(Buffer.concat([Buffer.from([2]), Buffer.from('to the second port')]));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(Buffer.concat(byChannel.get(2)!.slice(1)).toString(), 'to the second port');
});

test('parsePortForwardPorts: the kubelet and public spellings; a bad port is a 400', () => {
  assert.deepEqual(parsePortForwardPorts(new URLSearchParams('port=80,443')), [80, 443]);
  assert.deepEqual(parsePortForwardPorts(new URLSearchParams('ports=80&ports=8080')), [80, 8080]);
  assert.throws(() => parsePortForwardPorts(new URLSearchParams('port=0')), /invalid port "0"/);
});

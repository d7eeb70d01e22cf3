// The gRPC transport on node:http2 (../proto/grpc.ts, ./grpc-server.ts) against grpc-js, a real gRPC stack, in both
// directions, and against hand-made HTTP/2 requests for what a well-behaved client never sends.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http2 from 'node:http2';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ClientCall, GrpcStatus, type GrpcError } from '../proto/grpc.js';
import { PacketType, proxyServiceDefinition, type Packet } from '../proto/packet.js';
import { ProxyServiceClient, reader, type ClientStream } from '../testing.js';
import { serveGrpc, type ServerCall } from './grpc-server.js';

const path = proxyServiceDefinition.Proxy.path;
const data = (connectID: bigint, text: string): Packet => ({
  type: PacketType.DATA,
  data: { connectID, error: '', data: Buffer.from(text) },
});

function socketPath(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'grpc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 's');
}

/** Our server on a Unix socket: echoes packets, or refuses a call whose first packet is CLOSE_REQ. */
async function ourServer(t: TestContext): Promise<string> {
  const uds = socketPath(t);
  const server = http2.createServer();
  const close = serveGrpc(
    server,
    {
      [path]: (call: ServerCall) => {
        call.sendMetadata({ serverid: 'echo' });
        call.on('data', (p: Packet) =>
          p.type === PacketType.CLOSE_REQ
            ? call.fail(GrpcStatus.UNAUTHENTICATED, 'agent ü: 100% refused')
            : call.write(p)
        );
        call.on('end', () => call.end());
      },
    },
    { timeMs: 60_000, timeoutMs: 10_000 }
  );
  t.after(close);
  await new Promise<void>((resolve) => server.listen(uds, resolve));
  return uds;
}

function grpcJsClient(t: TestContext, uds: string): ClientStream {
  const client = new ProxyServiceClient(`unix:${uds}`, grpc.credentials.createInsecure());
  t.after(() => client.close());
  return (client as unknown as { Proxy(md: grpc.Metadata): ClientStream }).Proxy(new grpc.Metadata());
}

test('grpc-js client ↔ our server: metadata, packets both ways, OK status on half-close', async (t) => {
  const stream = grpcJsClient(t, await ourServer(t));
  const next = reader(stream);
  const [md] = (await once(stream, 'metadata')) as [grpc.Metadata];
  assert.deepEqual(md.get('serverid'), ['echo']);
  const big = Buffer.alloc(3 << 20, 7); // several HTTP/2 frames, more than one default window
  stream.write({ type: PacketType.DATA, data: { connectID: 2n ** 62n, error: '', data: big } });
  stream.write(data(1n, 'hello'));
  const first = await next();
  assert.ok(first.type === PacketType.DATA && first.data.connectID === 2n ** 62n && first.data.data.equals(big));
  assert.deepEqual(await next(), data(1n, 'hello'));
  const status = once(stream, 'status');
  stream.end();
  const [s] = (await status) as [grpc.StatusObject];
  assert.equal(s.code, grpc.status.OK);
});

test('our refusal reaches grpc-js with its code and its message, percent-encoding undone', async (t) => {
  const stream = grpcJsClient(t, await ourServer(t));
  await once(stream, 'metadata');
  stream.write({ type: PacketType.CLOSE_REQ, closeRequest: { connectID: 1n } });
  const [err] = (await once(stream, 'error')) as [grpc.ServiceError];
  assert.equal(err.code, grpc.status.UNAUTHENTICATED);
  assert.equal(err.details, 'agent ü: 100% refused');
});

/** A hand-made HTTP/2 request: its response headers, trailers and body. */
async function rawCall(uds: string, headers: http2.OutgoingHttpHeaders, body?: Buffer) {
  const session = http2.connect('http://x', { createConnection: () => connect(uds) });
  try {
    const req = session.request(headers);
    req.end(body);
    const [response] = (await once(req, 'response')) as [http2.IncomingHttpHeaders];
    let trailers: http2.IncomingHttpHeaders = {};
    req.on('trailers', (t: http2.IncomingHttpHeaders) => (trailers = t));
    let text = '';
    for await (const chunk of req) text += String(chunk);
    return { response, trailers, text };
  } finally {
    session.close();
  }
}

const grpcPost = (p: string) => ({ ':method': 'POST', ':path': p, 'content-type': 'application/grpc', te: 'trailers' });
/** The status of a call, trailers-only or not. */
const statusOf = (r: { response: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders }) => [
  Number(r.response['grpc-status'] ?? r.trailers['grpc-status']),
  r.response['grpc-message'] ?? r.trailers['grpc-message'],
];

test('what no gRPC client should send gets gRPC answers: unknown method, compressed or oversized message, not gRPC', async (t) => {
  const uds = await ourServer(t);
  const unknown = await rawCall(uds, grpcPost('/ProxyService/Nope'));
  assert.deepEqual(statusOf(unknown), [GrpcStatus.UNIMPLEMENTED, 'unknown method /ProxyService/Nope']);

  const compressed = await rawCall(uds, grpcPost(path), Buffer.from([1, 0, 0, 0, 1, 0]));
  assert.equal(statusOf(compressed)[0], GrpcStatus.UNIMPLEMENTED);
  assert.match(String(statusOf(compressed)[1]), /compressed/);

  const oversized = await rawCall(uds, grpcPost(path), Buffer.from([0, 0xff, 0xff, 0xff, 0xff]));
  assert.equal(statusOf(oversized)[0], GrpcStatus.RESOURCE_EXHAUSTED);

  const garbage = await rawCall(uds, grpcPost(path), Buffer.from([0, 0, 0, 0, 2, 0xff, 0xff]));
  assert.equal(statusOf(garbage)[0], GrpcStatus.INTERNAL);
  assert.match(String(statusOf(garbage)[1]), /bad packet/);

  const get = await rawCall(uds, { ':method': 'GET', ':path': path });
  assert.equal(get.response[':status'], 415);
  assert.match(get.text, /expected POST with content-type application\/grpc/);
});

function ourClient(t: TestContext, uds: string): ClientCall {
  const session = http2.connect('http://x', { createConnection: () => connect(uds) });
  session.on('error', () => {});
  t.after(() => session.destroy());
  return new ClientCall(session, path, {});
}

test('our client with nothing listening: UNAVAILABLE naming the cause', async (t) => {
  const call = ourClient(t, join(socketPath(t), 'absent'));
  const [err] = (await once(call, 'error')) as [GrpcError];
  assert.equal(err.code, GrpcStatus.UNAVAILABLE);
  assert.match(err.message, /ENOENT/);
});

test('our client ↔ grpc-js server: response metadata, packets echoed', async (t) => {
  const uds = socketPath(t);
  const server = new grpc.Server();
  server.addService(proxyServiceDefinition, {
    Proxy: (call: grpc.ServerDuplexStream<Packet, Packet>) => {
      const md = new grpc.Metadata();
      md.set('serverid', 'grpc-js');
      call.sendMetadata(md);
      call.on('data', (p: Packet) => call.write(p));
    },
  });
  t.after(() => server.forceShutdown());
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${uds}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()))
  );
  const call = ourClient(t, uds);
  call.on('error', () => {}); // the session is destroyed at the end of the test
  const next = reader(call as unknown as ClientStream);
  const metadata = once(call, 'metadata');
  call.write(data(5n, 'ping'));
  const [md] = (await metadata) as [http2.IncomingHttpHeaders];
  assert.equal(md.serverid, 'grpc-js');
  assert.deepEqual(await next(), data(5n, 'ping'));
});

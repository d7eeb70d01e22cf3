// Per-connection flow control (upstream #180): two connections share one agent stream; the first one's reader
// stops, and the second must still move bytes at a healthy rate, in both directions. Without per-connection
// windows the stalled connection fills the shared stream and the second one stops dead.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyAgent } from './agent/agent.js';
import { allowList } from './agent/allow-list.js';
import { PacketType } from './proto/packet.js';
import { ProxyServer } from './server/server.js';
import { dialThrough, grpcFrontend, listen, testPKI, type ClientStream } from './testing.js';

const MiB = 1 << 20;

/** Writes 64 KiB chunks to every connection for as long as it reads. */
function source(socket: Socket): void {
  const chunk = Buffer.alloc(64 * 1024, 7);
  const pump = (): void => {
    while (!socket.destroyed && socket.write(chunk));
  };
  socket.on('drain', pump);
  socket.on('error', () => {});
  pump();
}

async function setup(t: TestContext) {
  const pki = await testPKI();
  const dir = mkdtempSync(join(tmpdir(), 'konnectivity-flow-'));
  const uds = join(dir, 'proxy.socket');
  const server = new ProxyServer({ serverID: 's1', authenticateAgent: async () => {} });
  const port = await server.listenAgents('127.0.0.1:0', pki.serverTLS);
  await server.listenFrontend(uds);
  const src = createServer(source);
  const srcPort = await listen(src);
  const sinkSockets: Socket[] = [];
  // Accepts and never reads: whatever is sent to it piles up in front of it.
  const blackhole = createServer((s) => {
    s.pause();
    s.on('error', () => {});
    sinkSockets.push(s);
  });
  const holePort = await listen(blackhole);
  const echo = createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  const echoPort = await listen(echo);
  const agent = new ProxyAgent({
    serverAddress: `127.0.0.1:${port}`,
    caCert: pki.ca.cert,
    serverName: 'konnectivity-server',
    agentID: 'node1',
    agentIdentifiers: '',
    token: () => 't',
    allow: allowList([`127.0.0.1:${srcPort}`, `127.0.0.1:${holePort}`, `127.0.0.1:${echoPort}`]),
  });
  await agent.connect();
  const frontend = grpcFrontend(uds);
  t.after(() => {
    frontend.client.close();
    agent.close();
    server.close();
    for (const s of sinkSockets) s.destroy();
    for (const s of [src, blackhole, echo]) s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { frontend, srcPort, holePort, echoPort };
}

/** Reads `bytes` of DATA from a dialled stream. @returns MB/s */
async function download(stream: ClientStream, bytes: number): Promise<number> {
  const started = process.hrtime.bigint();
  let got = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got} of ${bytes} bytes after 30 s`)), 30_000);
    stream.on('data', (p) => {
      if (p.type === PacketType.DATA) got += p.data.data.length;
      if (got >= bytes) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return bytes / MiB / (Number(process.hrtime.bigint() - started) / 1e9);
}

test('node→client: a connection whose reader stopped does not slow another on the same agent stream', async (t) => {
  const { frontend, srcPort } = await setup(t);
  const baseline = await dialThrough(frontend, `127.0.0.1:${srcPort}`, 1n);
  const alone = await download(baseline.stream, 16 * MiB);
  baseline.stream.cancel();

  const stalled = await dialThrough(frontend, `127.0.0.1:${srcPort}`, 2n);
  stalled.stream.pause(); // this reader stops for good; the source keeps writing
  await new Promise((r) => setTimeout(r, 500));
  const other = await dialThrough(frontend, `127.0.0.1:${srcPort}`, 3n);
  const shared = await download(other.stream, 16 * MiB);
  t.diagnostic(`alone ${alone.toFixed(1)} MB/s, next to a stalled reader ${shared.toFixed(1)} MB/s`);
  assert.ok(shared > alone * 0.2, `${shared.toFixed(1)} MB/s is less than a fifth of ${alone.toFixed(1)} MB/s`);
  stalled.stream.cancel();
  other.stream.cancel();
});

test('client→node: an endpoint that stopped reading does not slow another connection on the same agent stream', async (t) => {
  const { frontend, holePort, echoPort } = await setup(t);
  const stuck = await dialThrough(frontend, `127.0.0.1:${holePort}`, 10n);
  const chunk = Buffer.alloc(32 * 1024, 1);
  // Fill everything in front of the endpoint that never reads, until backpressure reaches the frontend stream.
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (
        stuck.stream.write({ type: PacketType.DATA, data: { connectID: stuck.connectID, error: '', data: chunk } })
      );
    };
    stuck.stream.once('drain', pump);
    pump();
    setTimeout(resolve, 1000);
  });
  const echo = await dialThrough(frontend, `127.0.0.1:${echoPort}`, 11n);
  const total = 8 * MiB;
  const started = process.hrtime.bigint();
  const received = download(echo.stream, total);
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (!echo.stream.write({ type: PacketType.DATA, data: { connectID: echo.connectID, error: '', data: chunk } }))
      await new Promise((r) => echo.stream.once('drain', r));
  }
  await received;
  const rate = total / MiB / (Number(process.hrtime.bigint() - started) / 1e9);
  t.diagnostic(`echo next to a stuck endpoint: ${rate.toFixed(1)} MB/s`);
  assert.ok(rate > 1, `${rate.toFixed(2)} MB/s`);
  stuck.stream.cancel();
  echo.stream.cancel();
});

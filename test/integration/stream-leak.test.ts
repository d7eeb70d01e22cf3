// Issue 6's leak test: 2,000 exec and port-forward sessions through the API server to a real kubelet and a real
// pod — WebSocket v5 and SPDY exec; port-forward over the WebSocket SPDY tunnel, SPDY and legacy WebSocket; 10 at
// a time — must leave the open file descriptors and the heap (after a full GC) where they were. The API server and the kubelet
// run in this process (startTestControlPlane, startTestKubelet), so the figures are this process's: /proc/self/fd
// and heapUsed; the sessions' clients run here too and must clean up as well. The baseline is taken after a
// warm-up round, so one-time allocations (JIT, TLS contexts, lazily built tables) are not counted as leaks.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { createSecureContext, type ConnectionOptions } from 'node:tls';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WebSocket } from 'ws';
import {
  CLIENT_REMOTE_COMMAND_PROTOCOLS,
  PORT_FORWARD_PROTOCOL,
  PORT_FORWARD_TUNNEL_PROTOCOL,
  PortForwardClient,
  RemoteCommandProtocol,
  SpdyConnection,
  dialSpdy,
  dialWebSocket,
  exitCodeOf,
  spdyRemoteCommandClient,
  webSocketDuplex,
  webSocketRemoteCommandClient,
  type RemoteCommandClient,
} from '../../src/streams/index.js';
import { adminClient, eventually } from '../framework/api.js';
import { startTestControlPlane } from '../framework/control-plane.js';
import { startTestKubelet } from '../framework/kubelet.js';

const SESSIONS = Number(process.env.STREAM_LEAK_SESSIONS ?? 2000);
const CONCURRENCY = 10;
const WARM_UP = 60;
// What may remain after 2,000 sessions: a leak of one socket or one small object per session is far above both.
const FD_MARGIN = 5;
const HEAP_MARGIN = 4 * 1024 * 1024;

// --expose-gc without a command-line flag (the test runner starts this file).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const openFds = (): number => readdirSync('/proc/self/fd').length;

async function settledHeap(): Promise<number> {
  // Several passes with turns of the event loop between them: finalizers and weak callbacks free more.
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * A client WebSocket offering kubectl's port-forward tunnel protocol. `ws` refuses to offer a subprotocol with a
 * '/' in it (SPDY/3.1+portforward.k8s.io), so the handshake is done here and the upgraded socket handed to a `ws`
 * WebSocket as its server does, switched to the client's side of the framing (masked frames out).
 */
function dialTunnel(url: string, tls: ConnectionOptions): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, {
      ...tls,
      agent: false,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        'Sec-WebSocket-Protocol': PORT_FORWARD_TUNNEL_PROTOCOL,
      },
    });
    req.once('error', reject);
    req.once('response', (res) => reject(new Error(`tunnel refused: ${res.statusCode}`)));
    req.once('upgrade', (res, socket, head) => {
      if (res.headers['sec-websocket-protocol'] !== PORT_FORWARD_TUNNEL_PROTOCOL) {
        socket.destroy();
        return reject(new Error(`tunnel protocol ${res.headers['sec-websocket-protocol']}`));
      }
      socket.setNoDelay(true);
      const ws = new WebSocket(null as never, undefined, {}) as WebSocket & {
        _isServer: boolean;
        setSocket(socket: Socket, head: Buffer, options: { maxPayload: number; skipUTF8Validation: boolean }): void;
      };
      ws._isServer = false;
      ws.setSocket(socket, head, { maxPayload: 0, skipUTF8Validation: false });
      resolve(ws);
    });
    req.end();
  });
}

/** Reads a client's stdout to the end and waits for its Status. */
async function finish(client: RemoteCommandClient): Promise<{ out: string; code: number | undefined }> {
  const chunks: Buffer[] = [];
  client.stdout?.on('data', (c: Buffer) => chunks.push(c));
  client.stderr?.resume();
  const status = await client.status;
  client.close();
  return { out: Buffer.concat(chunks).toString(), code: exitCodeOf(status) };
}

test('2,000 exec and port-forward sessions through the API server leave fds and heap where they were', async (t) => {
  const cp = await startTestControlPlane(t, { kubeletPreferredAddressTypes: ['InternalIP'] });
  // A kubelet serving certificate from the cluster CA for its address, as a kubelet-serving CSR would give it.
  await startTestKubelet(t, cp, {
    servingCertificate: true,
  });

  // The pod: an echo server on a loopback port (pods share the node's network).
  const port = await freePort();
  const echo = `require('net').createServer((s) => s.pipe(s)).listen(${port}, '127.0.0.1')`;
  const admin = adminClient(cp);
  t.after(() => admin.close());
  await eventually('the pod is created', () =>
    admin.request('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'echo' },
      spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'host', command: [process.execPath, '-e', echo] }] },
    })
  );
  await eventually(
    'the pod runs',
    async () =>
      (await admin.get('/api/v1/namespaces/default/pods/echo')).status?.phase === 'Running' ? true : undefined,
    60_000
  );

  const { ca, admin: who } = cp.server.pki;
  // One TLS context for every client (as a kubectl process has one): building one per dial costs more than the dial.
  const tls: ConnectionOptions = { secureContext: createSecureContext({ ca: ca.cert, cert: who.cert, key: who.key }) };
  const pod = `${cp.url}/api/v1/namespaces/default/pods/echo`;
  const execUrl = `${pod}/exec?container=c&command=cat&stdin=true&stdout=true&stderr=true`;
  const opts = { stdin: true, stdout: true, stderr: true, tty: false, command: ['cat'] };

  const sessions: Record<string, (i: number) => Promise<void>> = {
    async 'exec over WebSocket v5'(i) {
      const { ws, protocol } = await dialWebSocket(execUrl, [RemoteCommandProtocol.V5], { tls });
      const client = webSocketRemoteCommandClient(ws, protocol, opts);
      client.stdin!.end(`ws ${i}`);
      assert.deepEqual(await finish(client), { out: `ws ${i}`, code: 0 });
    },
    async 'exec over SPDY'(i) {
      const { connection, protocol } = await dialSpdy(execUrl, CLIENT_REMOTE_COMMAND_PROTOCOLS, { tls });
      const client = await spdyRemoteCommandClient(connection, protocol, opts);
      client.stdin!.end(`spdy ${i}`);
      assert.deepEqual(await finish(client), { out: `spdy ${i}`, code: 0 });
    },
    async 'port-forward over the WebSocket tunnel'(i) {
      const ws = await dialTunnel(`${pod}/portforward`, tls);
      await echoOnce(
        new PortForwardClient(new SpdyConnection(webSocketDuplex(ws), { isServer: false })),
        `tunnel ${i}`
      );
    },
    async 'port-forward over legacy WebSocket'(i) {
      const { ws } = await dialWebSocket(`${pod}/portforward?ports=${port}`, [RemoteCommandProtocol.V4], { tls });
      const text = `legacy ${i}`;
      // Channel 0 is the port's data, 1 its errors; each starts with the port number (2 bytes).
      const got = await new Promise<string>((resolve, reject) => {
        const seen = [0, 0];
        let s = '';
        ws.on('message', (d: Buffer) => {
          const ch = d[0]!;
          if (seen[ch]!++ === 0) return;
          if (ch !== 0) return reject(new Error(`error channel: ${d.subarray(1).toString()}`));
          if ((s += d.subarray(1).toString()).length >= text.length) resolve(s);
        });
        ws.once('close', () => reject(new Error(`closed after ${JSON.stringify(s)}`)));
        ws.resume();
        ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(text)]));
      });
      ws.close(1000);
      assert.equal(got, text);
    },
    async 'port-forward over SPDY'(i) {
      const { connection } = await dialSpdy(`${pod}/portforward`, [PORT_FORWARD_PROTOCOL], { tls });
      await echoOnce(new PortForwardClient(connection), `spdy ${i}`);
    },
  };
  async function echoOnce(client: PortForwardClient, text: string): Promise<void> {
    try {
      const { data } = await client.open(port);
      const got = await new Promise<string>((resolve, reject) => {
        let s = '';
        data.on('data', (c: Buffer) => {
          s += c.toString();
          if (s.length >= text.length) resolve(s);
        });
        data.once('close', () => reject(new Error(`the data stream closed after ${JSON.stringify(s)}`)));
        data.write(text);
      });
      assert.equal(got, text);
    } finally {
      client.close();
    }
  }

  const kinds = Object.values(sessions);
  const failures = new Map<string, number>();
  // Per kind, how long its sessions took (ms): printed, so a slow close shows which path it is.
  const durations = new Map<string, number[]>();
  async function run(n: number): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < n; i = next++) {
          const kind = Object.keys(sessions)[i % kinds.length]!;
          const t0 = Date.now();
          await kinds[i % kinds.length]!(i).catch((err: Error) => {
            const key = `${kind}: ${err.message}`;
            failures.set(key, (failures.get(key) ?? 0) + 1);
          });
          const d = durations.get(kind) ?? [];
          d.push(Date.now() - t0);
          durations.set(kind, d);
        }
      })
    );
  }

  await run(WARM_UP);
  assert.deepEqual([...failures], [], 'the warm-up sessions all worked');
  // Let the warm-up's closes finish before the baseline.
  await eventually('the warm-up sessions are closed', async () => {
    const before = openFds();
    await new Promise((r) => setTimeout(r, 500));
    return openFds() === before ? true : undefined;
  });
  const fdsBefore = openFds();
  const heapBefore = await settledHeap();

  const started = Date.now();
  const cpuBefore = process.cpuUsage();
  await run(SESSIONS);
  const seconds = (Date.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  assert.deepEqual([...failures], [], 'every session worked');

  // Closes are asynchronous (FINs, RST_STREAMs, WebSocket close handshakes): wait for the count to come back.
  let fdsAfter = openFds();
  await eventually(
    'the open fds back to where they were',
    async () => ((fdsAfter = openFds()) <= fdsBefore + FD_MARGIN ? true : undefined),
    30_000
  ).catch(() => undefined);
  const heapAfter = await settledHeap();
  for (const [kind, d] of durations) {
    d.sort((a, b) => a - b);
    t.diagnostic(`${kind}: p50 ${d[d.length >> 1]} ms, max ${d[d.length - 1]} ms`);
  }
  t.diagnostic(
    `${SESSIONS} sessions in ${seconds.toFixed(1)} s (CPU ${((cpu.user + cpu.system) / 1000 / SESSIONS).toFixed(1)} ms each); fds ${fdsBefore} → ${fdsAfter}; ` +
      `heap ${(heapBefore / 2 ** 20).toFixed(1)} → ${(heapAfter / 2 ** 20).toFixed(1)} MiB`
  );
  assert.ok(fdsAfter <= fdsBefore + FD_MARGIN, `open fds ${fdsBefore} → ${fdsAfter}`);
  assert.ok(
    heapAfter <= heapBefore + HEAP_MARGIN,
    `heap ${(heapBefore / 2 ** 20).toFixed(1)} → ${(heapAfter / 2 ** 20).toFixed(1)} MiB`
  );
});

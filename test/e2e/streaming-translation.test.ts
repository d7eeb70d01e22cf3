// kubectl's WebSockets against a kubelet that speaks only SPDY, as an upstream kubelet does: the API server
// translates (exec/attach over SPDY toward the kubelet, port-forward's tunnel unwrapped onto a SPDY upgrade) and
// kubectl never falls back. Also: kubectl's WebSocket pings get pongs in both the relay and the translation, and
// the kubelet's --streaming-connection-idle-timeout (default 4h) closes a silent session but not a busy one.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { issueCertificate } from '../../src/pki/index.js';
import { dialWebSocket } from '../../src/streams/index.js';
import { adminClient, eventually } from '../framework/api.js';
import { startTestControlPlane, type TestControlPlane } from '../framework/control-plane.js';
import { kubectl, type Kubectl } from '../framework/kubectl.js';
import { startTestKubelet } from '../framework/kubelet.js';

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

/** A kubelet whose serving certificate the API server verifies (cluster CA, 127.0.0.1). */
async function kubelet(t: test.TestContext, cp: TestControlPlane, nodeName: string, idleTimeout?: string) {
  const serving = await issueCertificate({
    ca: cp.server.pki.ca,
    commonName: `system:node:${nodeName}`,
    organizations: ['system:nodes'],
    ipAddresses: ['127.0.0.1'],
    usages: ['server'],
    validityMs: 3600_000,
  });
  const crt = join(cp.dataDir, `${nodeName}.crt`);
  const key = join(cp.dataDir, `${nodeName}.key`);
  writeFileSync(crt, serving.cert);
  writeFileSync(key, serving.key);
  return startTestKubelet(t, cp, {
    nodeName,
    config: {
      tlsCertFile: crt,
      tlsPrivateKeyFile: key,
      ...(idleTimeout ? { streamingConnectionIdleTimeout: idleTimeout } : {}),
    },
  });
}

async function runningPod(cp: TestControlPlane, name: string, node: string, command: string[]): Promise<void> {
  const admin = adminClient(cp);
  await eventually('the pod is created', () =>
    admin.request('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { nodeName: node, containers: [{ name: 'c', image: 'host', command }] },
    })
  );
  await eventually(
    `${name} runs`,
    async () =>
      (await admin.get(`/api/v1/namespaces/default/pods/${name}`)).status?.phase === 'Running' ? true : undefined,
    30_000
  );
  admin.close();
}

/** A WebSocket exec straight to the API server that pings and waits for the pong. */
async function pingPong(cp: TestControlPlane, pod: string): Promise<void> {
  const { ca, admin } = cp.server.pki;
  const url = `${cp.url}/api/v1/namespaces/default/pods/${pod}/exec?command=sleep&command=30&stdout=true`;
  const { ws } = await dialWebSocket(url, ['v5.channel.k8s.io'], {
    tls: { ca: ca.cert, cert: admin.cert, key: admin.key },
  });
  ws.resume();
  ws.ping(Buffer.from('are you there'));
  const [payload] = (await Promise.race([
    once(ws, 'pong'),
    new Promise((_, reject) => setTimeout(() => reject(new Error('no pong within 5 s')), 5000)),
  ])) as [Buffer];
  assert.equal(payload.toString(), 'are you there');
  ws.terminate();
}

const noFallback = (k: Kubectl, stderr: string): void =>
  assert.doesNotMatch(stderr, /fallback to secondary dialer/, `kubectl 1.${k.minor} fell back to SPDY:\n${stderr}`);

test('kubectl WebSockets through a SPDY-only kubelet: exec, attach and port-forward translated; pings; idle timeout', async (t) => {
  const cp = await startTestControlPlane(t, { kubeletPreferredAddressTypes: ['InternalIP'] });
  const spdyOnly = await kubelet(t, cp, 'node-1');
  spdyOnly.kubelet.server.extendWebSocketsToKubelet = false;
  assert.equal(spdyOnly.kubelet.options.server.streamingConnectionIdleTimeoutMs, 4 * 3600_000, 'default 4h');
  const port = await freePort();
  const server = `require('http').createServer((q, r) => r.end('hi ' + q.url)).listen(${port}, '127.0.0.1'); setInterval(() => console.log('tick'), 200)`;
  await runningPod(cp, 'web', 'node-1', [process.execPath, '-e', server]);
  await eventually('the server listens', () =>
    fetch(`http://127.0.0.1:${port}/`).then((r) => (r.ok ? true : undefined))
  );

  // kubectl ends a WebSocket session 61 s after the last Pong: one longer than that shows its pings are answered.
  const long = kubectl(33, cp.kubeconfigPath)(['exec', 'web', '--', 'sh', '-c', 'sleep 65; echo done'], {
    timeoutMs: 120_000,
  });

  for (const minor of [30, 33]) {
    const k = kubectl(minor, cp.kubeconfigPath);
    const exec = await k(['-v=4', 'exec', '-i', 'web', '--', 'sh', '-c', 'cat; echo oops >&2; exit 3'], {
      stdin: 'piped',
    });
    assert.equal(exec.stdout, 'piped', exec.stderr);
    assert.equal(exec.code, 3, exec.stderr);
    assert.match(exec.stderr, /oops/);
    noFallback(k, exec.stderr);
    // A refusal the kubelet gives over SPDY too reaches kubectl as the kubelet's Status.
    const gone = await k(['exec', 'web', '--', 'no-such-program']);
    assert.notEqual(gone.code, 0);
    // attach to the ticking container: output arrives until kubectl is stopped.
    const attach = k.spawn(['-v=4', 'attach', 'web']);
    let out = '';
    let err = '';
    attach.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    attach.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await eventually(`kubectl 1.${minor} attach sees ticks`, async () => (/tick/.test(out) ? true : undefined));
    attach.kill('SIGKILL');
    noFallback(k, err);
  }

  // port-forward: 1.33 tunnels SPDY in a WebSocket, which the API server unwraps for the kubelet.
  const k33 = kubectl(33, cp.kubeconfigPath);
  const local = await freePort();
  const pf = k33.spawn(['-v=4', 'port-forward', 'pod/web', `${local}:${port}`]);
  t.after(() => void pf.kill('SIGKILL'));
  let pfErr = '';
  pf.stderr!.on('data', (d: Buffer) => (pfErr += d.toString()));
  await eventually('port-forward serves', async () => {
    const r = await fetch(`http://127.0.0.1:${local}/pf`).catch(() => undefined);
    return r?.ok ? r.text() : undefined;
  }).then((body) => assert.equal(body, 'hi /pf'));
  const bodies = await Promise.all(
    Array.from({ length: 20 }, (_, i) => fetch(`http://127.0.0.1:${local}/c${i}`).then((r) => r.text()))
  );
  assert.deepEqual(
    bodies,
    Array.from({ length: 20 }, (_, i) => `hi /c${i}`)
  );
  assert.match(pfErr, /negotiated protocol: portforward\.k8s\.io/);
  noFallback(k33, pfErr);
  pf.kill('SIGKILL');

  // Pings: answered by the API server when it translates, by the kubelet (relayed) when the kubelet takes them.
  await pingPong(cp, 'web');
  spdyOnly.kubelet.server.extendWebSocketsToKubelet = true;
  await pingPong(cp, 'web');

  const longRun = await long;
  assert.deepEqual([longRun.code, longRun.stdout], [0, 'done\n'], longRun.stderr);

  // --streaming-connection-idle-timeout: a session with no traffic for 1 s is closed, a busy one runs on.
  await kubelet(t, cp, 'node-2', '1s');
  await runningPod(cp, 'idle', 'node-2', ['sleep', '3600']);
  for (const env of [{}, { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }] as Record<string, string>[]) {
    const started = Date.now();
    const silent = await k33(['exec', 'idle', '--', 'sleep', '20'], { env });
    // Over WebSocket kubectl sees the abnormal close; over SPDY (as with an upstream kubelet) a torn-down
    // connection reads as EOF on every stream, so only the early end shows it.
    if (!env.KUBECTL_REMOTE_COMMAND_WEBSOCKETS) assert.notEqual(silent.code, 0, JSON.stringify(env));
    assert.ok(Date.now() - started < 15_000, `closed after ${Date.now() - started} ms ${JSON.stringify(env)}`);
    const busy = await k33(
      ['exec', 'idle', '--', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do echo $i; sleep 0.3; done'],
      {
        env,
      }
    );
    assert.equal(busy.code, 0, `${JSON.stringify(env)}: ${busy.stderr}`);
    assert.equal(busy.stdout, '1\n2\n3\n4\n5\n6\n7\n8\n');
  }
});

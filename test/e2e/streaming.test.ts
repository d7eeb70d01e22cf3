// The streaming and proxy subresources end to end with the real kubectl: against a real kubelet (logs, exec with
// exit codes, port-forward, nodes/proxy, pods/proxy) in both protocol generations, and the API server's own
// checks: a MITM relay with a self-signed certificate is refused (and passes with the insecure flag, warned), a
// user without the subresource permission gets 403 with nothing dialled.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { createCA, issueCertificate, kubeconfig } from '../../src/pki/index.js';
import { adminClient, eventually } from '../framework/api.js';
import { startTestControlPlane, type TestControlPlane } from '../framework/control-plane.js';
import { kubectl, streamingVariants } from '../framework/kubectl.js';
import { startTestKubelet } from '../framework/kubelet.js';

const listen = (s: Server | ReturnType<typeof createHttpsServer>): Promise<number> =>
  new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));

/** A Node object whose kubelet is at 127.0.0.1:port (no kubelet manages it). */
async function fakeNode(cp: TestControlPlane, name: string, port: number): Promise<void> {
  const c = adminClient(cp);
  await c.request('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name } });
  await c.request(
    'PATCH',
    `/api/v1/nodes/${name}/status`,
    {
      status: {
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
        daemonEndpoints: { kubeletEndpoint: { Port: port } },
      },
    },
    'application/merge-patch+json'
  );
  c.close();
}

async function podOn(cp: TestControlPlane, name: string, node: string): Promise<void> {
  const c = adminClient(cp);
  // ServiceAccount admission needs the namespace's default account, which a controller creates.
  await eventually('the pod is created', () =>
    c.request('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { nodeName: node, containers: [{ name: 'c', image: 'host', command: ['true'] }] },
    })
  );
  c.close();
}

/** A user kubeconfig with a client certificate from the cluster CA. */
async function userKubeconfig(cp: TestControlPlane, user: string): Promise<string> {
  const { ca } = cp.server.pki;
  const cert = await issueCertificate({ ca, commonName: user, usages: ['client'], validityMs: 3600_000 });
  const path = join(cp.dataDir, `${user}.kubeconfig`);
  writeFileSync(
    path,
    kubeconfig({ server: cp.url, caPem: ca.cert, clientCertPem: cert.cert, clientKeyPem: cert.key, user })
  );
  return path;
}

test('a kubelet behind a TLS relay with a self-signed certificate is refused; --kubelet-insecure-skip-tls-verify passes, warned', async (t) => {
  // The "kubelet" behind the relay: a CA-signed server answering /containerLogs.
  const cp = await startTestControlPlane(t, { kubeletPreferredAddressTypes: ['InternalIP'], kubeletTimeoutMs: 2000 });
  const serving = await issueCertificate({
    ca: cp.server.pki.ca,
    commonName: 'system:node:mitm',
    ipAddresses: ['127.0.0.1'],
    usages: ['server'],
    validityMs: 3600_000,
  });
  const kubelet = createHttpsServer({ cert: serving.cert, key: serving.key }, (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`log of ${req.url}\n`);
  });
  const kubeletPort = await listen(kubelet);
  // The intruder: its own self-signed certificate for the kubelet's address, relaying to the kubelet.
  const rogueCA = await createCA({ commonName: 'intruder' });
  const rogue = await issueCertificate({
    ca: rogueCA,
    commonName: '127.0.0.1',
    ipAddresses: ['127.0.0.1'],
    usages: ['server'],
    validityMs: 3600_000,
  });
  let relayed = 0;
  const relay = createTlsServer({ cert: rogue.cert, key: rogue.key }, (s) => {
    relayed++;
    const up = tlsConnect({ host: '127.0.0.1', port: kubeletPort, rejectUnauthorized: false });
    s.pipe(up).pipe(s);
    s.on('error', () => up.destroy());
    up.on('error', () => s.destroy());
  });
  const relayPort = await listen(relay);
  t.after(() => {
    kubelet.close();
    relay.close();
  });
  await fakeNode(cp, 'mitm', relayPort);
  await podOn(cp, 'p', 'mitm');
  const k = kubectl(33, cp.kubeconfigPath);
  const r = await k(['logs', 'p']);
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    /kubelet of node "mitm" at 127\.0\.0\.1:\d+: tls: failed to verify certificate: x509: certificate signed by unknown authority/
  );
  assert.equal(relayed, 0, 'the handshake failed, so nothing reached the kubelet');

  // A kubelet that accepts the connection and never answers: a 504 within --kubelet-timeout, not a hang.
  const held: Socket[] = [];
  const silent = createServer((sock) => void held.push(sock));
  const silentPort = await listen(silent);
  t.after(() => {
    for (const h of held) h.destroy();
    silent.close();
  });
  await fakeNode(cp, 'silent', silentPort);
  const started = Date.now();
  const hang = await k(['get', '--raw', '/api/v1/nodes/silent/proxy/healthz']);
  assert.notEqual(hang.code, 0);
  assert.match(hang.stderr, /kubelet of node "silent" at 127\.0\.0\.1:\d+: tls: handshake timeout/);
  assert.ok(Date.now() - started < 10_000);

  // The same through a server that skips verification: the log arrives, and the skip is logged.
  const warnings: string[] = [];
  const cp2 = await startTestControlPlane(t, {
    kubeletPreferredAddressTypes: ['InternalIP'],
    kubeletInsecureSkipTLSVerify: true,
  });
  const origWarn = cp2.server.log.warn.bind(cp2.server.log);
  cp2.server.log.warn = (o: unknown, m?: string) => {
    warnings.push(String(m ?? o));
    return origWarn(o as never, m as never);
  };
  await fakeNode(cp2, 'mitm', relayPort);
  await podOn(cp2, 'p', 'mitm');
  assert.equal(await kubectl(33, cp2.kubeconfigPath).ok(['logs', 'p']), 'log of /containerLogs/default/p/c\n');
  assert.ok(
    warnings.some((w) => /TLS verification of the backend is skipped/.test(w)),
    warnings.join('\n')
  );
});

test('without the subresource permission: 403 and nothing dialled', async (t) => {
  const cp = await startTestControlPlane(t, { kubeletPreferredAddressTypes: ['InternalIP'] });
  let dialled = 0;
  const counter = createServer((s) => {
    dialled++;
    s.destroy();
  });
  const port = await listen(counter);
  t.after(() => void counter.close());
  await fakeNode(cp, 'n1', port);
  await podOn(cp, 'p', 'n1');
  const admin = adminClient(cp);
  // alice may read pods (so kubectl gets as far as the exec), but not exec, attach, logs or port-forward.
  await admin.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
    metadata: { name: 'pod-reader' },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }],
  });
  await admin.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    metadata: { name: 'alice-pod-reader' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'pod-reader' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }],
  });
  admin.close();
  const alice = await userKubeconfig(cp, 'alice');
  for (const minor of [27, 33]) {
    const k = kubectl(minor, alice);
    await eventually('alice can get pods', async () => ((await k(['get', 'pod', 'p'])).code === 0 ? true : undefined));
    const exec = await k(['exec', 'p', '--', 'true']);
    assert.notEqual(exec.code, 0);
    assert.match(exec.stderr, /forbidden/i);
    const logs = await k(['logs', 'p']);
    assert.match(logs.stderr, /pods "p" is forbidden: User "alice" cannot get resource "pods\/log"/);
    const raw = await k(['get', '--raw', '/api/v1/nodes/n1/proxy/healthz']);
    assert.match(raw.stderr, /forbidden/i);
  }
  assert.equal(dialled, 0);
});

const freePort = async (): Promise<number> => {
  const s = createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
};

test('logs, exec, port-forward, nodes/proxy and pods/proxy through a real kubelet, kubectl 1.27, 1.30, 1.33', async (t) => {
  const cp = await startTestControlPlane(t, { kubeletPreferredAddressTypes: ['InternalIP'] });
  // The kubelet serves a certificate from the cluster CA for its address, as one issued by a kubelet-serving CSR.
  await startTestKubelet(t, cp, {
    servingCertificate: true,
  });
  const port = await freePort();
  const server = `require('http').createServer((q, r) => r.end('hi ' + q.url)).listen(${port}, '127.0.0.1'); console.log('one'); console.log('two')`;
  const admin = adminClient(cp);
  await eventually('the pod is created', () =>
    admin.request('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web' },
      spec: {
        nodeName: 'node-1',
        containers: [
          { name: 'c', image: 'host', command: [process.execPath, '-e', server], ports: [{ containerPort: port }] },
        ],
      },
    })
  );
  await eventually(
    'the pod runs',
    async () =>
      (await admin.get('/api/v1/namespaces/default/pods/web')).status?.phase === 'Running' ? true : undefined,
    30_000
  );
  admin.close();
  await eventually('the server listens', () =>
    fetch(`http://127.0.0.1:${port}/`).then((r) => (r.ok ? true : undefined))
  );

  const k33 = kubectl(33, cp.kubeconfigPath);
  // logs -f: each line arrives as it is written, and kubectl ends when the container does.
  const admin2 = adminClient(cp);
  await admin2.request('POST', '/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'ticker' },
    spec: {
      nodeName: 'node-1',
      restartPolicy: 'Never',
      containers: [{ name: 'c', image: 'host', command: ['sh', '-c', 'echo a; sleep 3; echo b'] }],
    },
  });
  admin2.close();
  await eventually(
    'ticker has a log',
    async () => ((await k33(['logs', 'ticker'])).stdout.startsWith('a') ? true : undefined),
    30_000
  );
  const follow = k33.spawn(['logs', '-f', 'ticker']);
  t.after(() => void follow.kill('SIGKILL'));
  const seen: { line: string; at: number }[] = [];
  follow.stdout!.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n').filter(Boolean)) seen.push({ line, at: Date.now() });
  });
  const code = await new Promise<number | null>((r) => follow.once('close', r));
  assert.equal(code, 0);
  assert.deepEqual(
    seen.map((x) => x.line),
    ['a', 'b']
  );
  assert.ok(seen[1]!.at - seen[0]!.at > 500, 'b arrived after a, as written');
  assert.equal(await k33.ok(['get', '--raw', '/api/v1/nodes/node-1/proxy/healthz']), 'ok');
  assert.match(await k33.ok(['get', '--raw', '/api/v1/nodes/node-1/proxy/metrics']), /# TYPE/);
  assert.equal(await k33.ok(['get', '--raw', `/api/v1/namespaces/default/pods/web:${port}/proxy/x?y=1`]), 'hi /x?y=1');
  assert.equal(await k33.ok(['get', '--raw', '/api/v1/namespaces/default/pods/web/proxy/']), 'hi /');

  for (const [minor, env] of streamingVariants) {
    const k = kubectl(minor, cp.kubeconfigPath);
    const what = `kubectl 1.${minor} ${JSON.stringify(env)}`;
    assert.equal(await k.ok(['logs', 'web']), 'one\ntwo\n', what);
    assert.equal(await k.ok(['logs', 'web', '--tail=1', '-c', 'c']), 'two\n', what);
    const exec = await k(['exec', '-i', 'web', '--', 'sh', '-c', 'cat; exit 3'], { stdin: 'piped', env });
    assert.equal(exec.stdout, 'piped', `${what}: ${exec.stderr}`);
    assert.equal(exec.code, 3, `${what}: ${exec.stderr}`);
    const local = await freePort();
    // spawn() takes the environment of this process at the call.
    Object.assign(process.env, env);
    const pf = k.spawn(['port-forward', 'pod/web', `${local}:${port}`]);
    for (const key of Object.keys(env)) delete process.env[key];
    t.after(() => void pf.kill('SIGKILL'));
    await eventually(`${what} port-forward serves`, async () => {
      const r = await fetch(`http://127.0.0.1:${local}/pf`).catch(() => undefined);
      return r?.ok ? r.text() : undefined;
    }).then((body) => assert.equal(body, 'hi /pf', what));
    const bodies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => fetch(`http://127.0.0.1:${local}/c${i}`).then((r) => r.text()))
    );
    assert.deepEqual(
      bodies,
      Array.from({ length: 20 }, (_, i) => `hi /c${i}`),
      what
    );
    pf.kill('SIGKILL');
  }
});

// The kubelet's HTTPS API called directly with a Node HTTPS client, against a real control plane and real
// bubblewrap pods: 401 without credentials, 403 without nodes/proxy, the API server's kubelet-client identity
// (bound to system:kubelet-api-admin) and a service-account token (TokenReview) allowed; logs with their
// parameters, exec over WebSocket v5 and SPDY, port-forward over SPDY and the WebSocket tunnel, 404 and 127.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request, type RequestOptions } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { KubeClient } from '../../src/lib/kube-client.js';
import { issueCertificate, type CertKeyPair } from '../../src/pki/index.js';
import {
  CLIENT_REMOTE_COMMAND_PROTOCOLS,
  PORT_FORWARD_PROTOCOL,
  PortForwardClient,
  RemoteCommandProtocol,
  dialSpdy,
  dialWebSocket,
  exitCodeOf,
  kubeletRemoteCommandQuery,
  spdyRemoteCommandClient,
  webSocketRemoteCommandClient,
  type RemoteCommandClient,
  type RemoteCommandOptions,
} from '../../src/streams/index.js';
import { startTestControlPlane, type TestControlPlane } from '../framework/control-plane.js';
import { startTestKubelet, type TestKubelet } from '../framework/kubelet.js';

const cleanups: (() => Promise<void> | void)[] = [];
const hook = { after: (fn: () => Promise<void>) => void cleanups.push(fn) };
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

let cp: TestControlPlane;
let tk: TestKubelet;
let admin: KubeClient;
let base: string;
let apiClient: CertKeyPair; // kube-apiserver-kubelet-client, bound to system:kubelet-api-admin
let nobody: CertKeyPair;
let saToken: string;
let echoPort: number;
const tls = (who?: CertKeyPair): ConnectionOptions => ({
  ca: cp.server.pki.ca.cert,
  ...(who ? { cert: who.cert, key: who.key } : {}),
});

async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function get(
  path: string,
  o: RequestOptions & { method?: string } = {}
): Promise<{ code: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { agent: false, ...o }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ code: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers })
      );
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  cp = await startTestControlPlane(hook);
  const { ca, admin: a } = cp.server.pki;
  admin = new KubeClient({ server: cp.url, caPem: ca.cert, certPem: a.cert, keyPem: a.key });
  cleanups.push(() => admin.close());
  const dir = await mkdtemp(join(tmpdir(), 'hubspoke-kubelet-server-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const serving = await issueCertificate({
    ca,
    commonName: 'system:node:node-1',
    organizations: ['system:nodes'],
    dnsNames: ['node-1'],
    ipAddresses: ['127.0.0.1'],
    usages: ['server'],
    validityMs: 3600_000,
  });
  await writeFile(join(dir, 'kubelet.crt'), serving.cert);
  await writeFile(join(dir, 'kubelet.key'), serving.key);
  [apiClient, nobody] = (await Promise.all(
    ['kube-apiserver-kubelet-client', 'nobody'].map((cn) =>
      issueCertificate({ ca, commonName: cn, usages: ['client'], validityMs: 3600_000 })
    )
  )) as [CertKeyPair, CertKeyPair];
  await admin.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'test:kubelet-api-admin' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:kubelet-api-admin' },
    subjects: [
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'kube-apiserver-kubelet-client' },
      { kind: 'ServiceAccount', name: 'metrics-reader', namespace: 'default' },
    ],
  });
  await admin.request('POST', '/api/v1/namespaces/default/serviceaccounts', {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'metrics-reader' },
  });
  saToken = (
    await admin.request<{ status: { token: string } }>(
      'POST',
      '/api/v1/namespaces/default/serviceaccounts/metrics-reader/token',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} }
    )
  ).status.token;
  tk = await startTestKubelet(hook, cp, {
    config: { tlsCertFile: join(dir, 'kubelet.crt'), tlsPrivateKeyFile: join(dir, 'kubelet.key') },
  });
  base = `https://127.0.0.1:${tk.kubelet.server.port}`;
  echoPort = await freePort();
  const echo = `import socket,threading
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', ${echoPort})); s.listen(16)
def serve(c):
    while True:
        d=c.recv(65536)
        if not d: break
        c.sendall(d)
    c.close()
while True:
    c,_=s.accept(); threading.Thread(target=serve,args=(c,),daemon=True).start()`;
  await admin.request('POST', '/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web' },
    spec: {
      nodeName: tk.nodeName,
      containers: [
        {
          name: 'main',
          image: 'host',
          command: [
            '/bin/sh',
            '-c',
            'echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three; while true; do date +tick-%s%N; sleep 0.3; done',
          ],
        },
        { name: 'echo', image: 'host', command: ['python3', '-u', '-c', echo] },
      ],
    },
  });
  await until('the pod to run', 10_000, async () => {
    const p = await admin.get<any>('/api/v1/namespaces/default/pods/web');
    return p.status?.containerStatuses?.every((c: any) => c.state?.running) && p;
  });
});

const execOpts = (command: string[], stdin = false): RemoteCommandOptions => ({
  stdin,
  stdout: true,
  stderr: true,
  tty: false,
  command,
});
const execPath = (o: RemoteCommandOptions, pod = 'web'): string =>
  `/exec/default/${pod}/main?${kubeletRemoteCommandQuery(o).toString()}`;

async function collect(r: Readable | null): Promise<string> {
  const chunks: Buffer[] = [];
  if (r) for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

async function run(
  client: RemoteCommandClient,
  input?: string
): Promise<{ out: string; err: string; code?: number; message?: string }> {
  if (input !== undefined) client.stdin!.end(input);
  const [out, err, status] = await Promise.all([collect(client.stdout), collect(client.stderr), client.status]);
  client.close();
  return { out, err, code: exitCodeOf(status), message: status.message };
}

describe('kubelet server', () => {
  it('answers 401 without credentials and 403 without nodes/proxy, before routing', async () => {
    const anon = await get('/healthz', tls());
    assert.equal(anon.code, 401);
    assert.equal(anon.body, 'Unauthorized\n');
    const bad = await get('/exec/default/web/main?command=true&output=1', {
      ...tls(),
      headers: { authorization: 'Bearer nope' },
    });
    assert.equal(bad.code, 401);
    const forbidden = await get('/pods', tls(nobody));
    assert.equal(forbidden.code, 403);
    assert.equal(forbidden.body, 'Forbidden (user=nobody, verb=get, resource=nodes, subresource(s)=[pods proxy])\n');
    const logs = await get('/containerLogs/default/web/main', tls(nobody));
    assert.equal(logs.code, 403);
    assert.match(logs.body, /subresource\(s\)=\[proxy\]/);
  });

  it('serves /healthz, /pods, /metrics and /stats/summary to the API server identity', async () => {
    const h = await get('/healthz', tls(apiClient));
    assert.deepEqual([h.code, h.body], [200, 'ok']);
    const tls12 = await get('/healthz', { ...tls(apiClient), maxVersion: 'TLSv1.2' });
    assert.equal(tls12.code, 200);
    await assert.rejects(get('/healthz', { ...tls(apiClient), maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }));
    const pods = JSON.parse((await get('/pods', tls(apiClient))).body);
    assert.equal(pods.kind, 'PodList');
    assert.deepEqual(
      pods.items.map((p: any) => p.metadata.name),
      ['web']
    );
    const m = await get('/metrics', tls(apiClient));
    assert.match(m.body, /kubelet_node_name\{node="node-1"\} 1/);
    assert.match(m.body, /kubelet_http_requests_total\{method="GET",path="pods"/);
    const s = JSON.parse((await get('/stats/summary?only_cpu_and_memory=true', tls(apiClient))).body);
    assert.equal(s.node.nodeName, 'node-1');
    assert.ok(s.node.memory.workingSetBytes > 0);
    const main = s.pods[0].containers.find((c: any) => c.name === 'main');
    assert.ok(main.memory.rssBytes > 0);
  });

  it('accepts a service-account token through TokenReview', async () => {
    const r = await get('/pods', { ...tls(), headers: { authorization: `Bearer ${saToken}` } });
    assert.equal(r.code, 200);
  });

  it('serves container logs with tailLines, limitBytes, timestamps, previous and follow', async () => {
    const all = (await get('/containerLogs/default/web/main', tls(apiClient))).body;
    assert.match(all, /^one\ntwo\nthree\ntick-/);
    const tail = (await get('/containerLogs/default/web/main?tailLines=2', tls(apiClient))).body;
    assert.equal(tail.split('\n').length, 3);
    assert.equal((await get('/containerLogs/default/web/main?limitBytes=6', tls(apiClient))).body, 'one\ntw');
    const ts = (await get('/containerLogs/default/web/main?timestamps=true&limitBytes=200', tls(apiClient))).body;
    assert.match(ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z one\n/);
    const prev = await get('/containerLogs/default/web/main?previous=true', tls(apiClient));
    assert.equal(prev.code, 400);
    assert.match(JSON.parse(prev.body).message, /previous terminated container "main" in pod "web" not found/);
    // follow: a line written after the request started arrives
    const started = Date.now();
    const line = await new Promise<string>((resolve, reject) => {
      const req = request(
        `${base}/containerLogs/default/web/main?follow=true&tailLines=0`,
        { agent: false, ...tls(apiClient) },
        (res) => {
          res.once('data', (c: Buffer) => {
            resolve(c.toString());
            req.destroy();
          });
        }
      );
      req.on('error', reject);
      req.end();
    });
    assert.match(line, /^tick-\d+/);
    assert.ok(Number(line.slice(5, 18)) >= started - 50, 'the line was written after the request');
  });

  it('answers 404 for an unknown pod or container', async () => {
    const r = await get('/containerLogs/default/nope/main', tls(apiClient));
    assert.equal(r.code, 404);
    assert.equal(JSON.parse(r.body).message, 'pod "nope" does not exist');
    const c = await get('/containerLogs/default/web/nope', tls(apiClient));
    assert.equal(c.code, 404);
    await assert.rejects(
      dialSpdy(`${base}${execPath(execOpts(['true']), 'nope')}`, CLIENT_REMOTE_COMMAND_PROTOCOLS, {
        tls: tls(apiClient),
      }),
      (err: any) => err.statusCode === 404
    );
  });

  it('runs exec over WebSocket v5 and SPDY with stdin and the exit code', async () => {
    const o = execOpts(['/bin/sh', '-c', 'cat; echo oops >&2; exit 3'], true);
    const { ws, protocol } = await dialWebSocket(`${base}${execPath(o)}`, [RemoteCommandProtocol.V5], {
      tls: tls(apiClient),
    });
    assert.equal(protocol, RemoteCommandProtocol.V5);
    const viaWs = await run(webSocketRemoteCommandClient(ws, protocol, o), 'hello ws\n');
    assert.deepEqual([viaWs.out, viaWs.err, viaWs.code], ['hello ws\n', 'oops\n', 3]);
    const spdy = await dialSpdy(`${base}${execPath(o)}`, CLIENT_REMOTE_COMMAND_PROTOCOLS, { tls: tls(apiClient) });
    assert.equal(spdy.protocol, RemoteCommandProtocol.V4);
    const viaSpdy = await run(await spdyRemoteCommandClient(spdy.connection, spdy.protocol, o), 'hello spdy\n');
    assert.deepEqual([viaSpdy.out, viaSpdy.err, viaSpdy.code], ['hello spdy\n', 'oops\n', 3]);
  });

  it('reports a missing program with exit code 127 on the error channel', async () => {
    const o = execOpts(['no-such-program']);
    const spdy = await dialSpdy(`${base}${execPath(o)}`, CLIENT_REMOTE_COMMAND_PROTOCOLS, { tls: tls(apiClient) });
    const r = await run(await spdyRemoteCommandClient(spdy.connection, spdy.protocol, o));
    assert.equal(r.code, 127);
    assert.match(r.message ?? '', /exec: "no-such-program": executable file not found/);
    assert.equal(r.err, '');
  });

  it('forwards a port over SPDY and WebSocket, data checked by hash', async () => {
    const path = `${base}/portForward/default/web`;
    const payload = randomBytes(1 << 20);
    const want = createHash('sha256').update(payload).digest('hex');
    const spdy = await dialSpdy(path, [PORT_FORWARD_PROTOCOL], { tls: tls(apiClient) });
    const client = new PortForwardClient(spdy.connection);
    const { data } = await client.open(echoPort);
    const got = createHash('sha256');
    let n = 0;
    await new Promise<void>((resolve) => {
      data.on('data', (c: Buffer) => {
        got.update(c);
        if ((n += c.length) >= payload.length) resolve();
      });
      data.write(payload);
    });
    assert.equal(got.digest('hex'), want);
    client.close();
    // WebSocket (v4 channels, the port in the query): channel 0 data, 1 errors; each starts with the port.
    const { ws } = await dialWebSocket(`${path}?port=${echoPort}`, [RemoteCommandProtocol.V4], { tls: tls(apiClient) });
    const wsHash = createHash('sha256');
    const seen = [0, 0];
    let m = 0;
    await new Promise<void>((resolve) => {
      ws.on('message', (d: Buffer) => {
        const ch = d[0]!;
        if (seen[ch]!++ === 0) return assert.equal(d.readUInt16LE(1), echoPort);
        if (ch !== 0) return;
        wsHash.update(d.subarray(1));
        if ((m += d.length - 1) >= payload.length) resolve();
      });
      ws.resume();
      for (let i = 0; i < payload.length; i += 32 * 1024)
        ws.send(Buffer.concat([Buffer.from([0]), payload.subarray(i, i + 32 * 1024)]));
    });
    assert.equal(wsHash.digest('hex'), want);
    ws.close();
  });

  it('closes a connection that sends a malformed SPDY frame, and keeps serving', async () => {
    const sock = tlsConnect({ host: '127.0.0.1', port: tk.kubelet.server.port, ...tls(apiClient) });
    await new Promise((r) => sock.once('secureConnect', r));
    sock.write(
      `POST ${execPath(execOpts(['true']))} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n` +
        'X-Stream-Protocol-Version: v4.channel.k8s.io\r\nContent-Length: 0\r\n\r\n'
    );
    let got = '';
    sock.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      // a control frame of version 3, type SYN_STREAM, with a length far beyond its bytes and a bad header block
      if (got.includes('\r\n\r\n')) sock.write(Buffer.from('800300010000000a00000001ffffffffffff', 'hex'));
    });
    await new Promise((r) => sock.once('close', r));
    assert.match(got, /^HTTP\/1.1 101 /);
    assert.equal((await get('/healthz', tls(apiClient))).code, 200);
  });
});

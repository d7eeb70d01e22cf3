// Against one `hubspoke up`, with the real kubectl 1.27, 1.30 and 1.33: `logs` with --tail, --since, --timestamps,
// --previous and -c; `logs -f` seeing lines as they are written and ending with the pod; `kubectl proxy` then a GET
// through pods/NAME:PORT/proxy; `get --raw` of the kubelet's healthz and metrics through nodes/proxy; and
// services/proxy in the name, name:port and name:portname forms.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { eventually } from '../framework/api.js';
import { kubectl } from '../framework/kubectl.js';
import { startUp } from '../framework/up.js';

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

const manifests = (port: number): string => `
apiVersion: v1
kind: Pod
metadata: { name: web, labels: { app: web } }
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{ name: data, emptyDir: {} }]
  containers:
  - name: main
    image: host
    command: ['${process.execPath}', -e, "require('http').createServer((q, r) => r.end('hi ' + q.url)).listen(${port}, '127.0.0.1')"]
    ports: [{ name: http, containerPort: ${port} }]
  - name: ticker
    image: host
    command: [sh, -c, 'i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.2; done']
  # The first run exits 1, the restarted one stays: --previous reads run 1.
  - name: crash
    image: host
    command: [sh, -c, 'n=$(($(cat /data/n 2>/dev/null || echo 0) + 1)); echo $n > /data/n; echo run $n; [ $n -ge 2 ] && exec sleep 3600; exit 1']
    volumeMounts: [{ name: data, mountPath: /data }]
---
apiVersion: v1
kind: Service
metadata: { name: websvc }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: ${port} }]
---
apiVersion: v1
kind: Service
metadata: { name: websvc2 }
spec:
  selector: { app: web }
  ports:
  - { name: http, port: 81, targetPort: ${port} }
  - { name: alt, port: 82, targetPort: ${port} }
`;

const oncePod = (name: string): string => `
apiVersion: v1
kind: Pod
metadata: { name: ${name} }
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: host
    # b is written only once the test says so (touch /tmp/go), after kubectl logs -f has shown a.
    command: [sh, -c, 'echo a; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo b']
`;

test('logs, logs -f, kubectl proxy, nodes/proxy and services/proxy against hubspoke up, kubectl 1.27, 1.30, 1.33', async (t) => {
  const up = await startUp(t);
  const port = await freePort();
  const admin = kubectl(33, up.kubeconfigPath);
  await eventually(
    'the default service account',
    async () => ((await admin(['get', 'serviceaccount', 'default'])).code === 0 ? true : undefined),
    20_000
  );
  await admin.ok(['apply', '-f', '-'], { stdin: manifests(port) });
  await eventually(
    'web restarted its crash container',
    async () => {
      const r = await admin([
        'get',
        'pod',
        'web',
        '-o',
        'jsonpath={.status.containerStatuses[?(@.name=="crash")].restartCount}',
      ]);
      return Number(r.stdout) >= 1 && (await admin(['logs', 'web', '-c', 'crash'])).stdout === 'run 2\n'
        ? true
        : undefined;
    },
    60_000
  );

  // kubectl ends a WebSocket session 61 s after the last Pong: one longer than that shows its pings are answered
  // (here by the kubelet, the WebSocket relayed byte for byte).
  const long = admin(['exec', 'web', '-c', 'main', '--', 'sh', '-c', 'sleep 65; echo done'], { timeoutMs: 120_000 });

  for (const minor of [27, 30, 33]) {
    const k = kubectl(minor, up.kubeconfigPath);
    const what = `kubectl 1.${minor}`;

    // logs and its parameters
    assert.equal(await k.ok(['logs', 'web', '-c', 'crash']), 'run 2\n', what);
    assert.equal(await k.ok(['logs', 'web', '-c', 'crash', '--previous']), 'run 1\n', what);
    const tail = await k.ok(['logs', 'web', '-c', 'ticker', '--tail=2']);
    assert.match(tail, /^tick \d+\ntick \d+\n$/, what);
    const stamped = await k.ok(['logs', 'web', '-c', 'ticker', '--tail=1', '--timestamps']);
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z tick \d+\n$/, what);
    const all = (await k.ok(['logs', 'web', '-c', 'ticker'])).split('\n').filter(Boolean).length;
    const recent = (await k.ok(['logs', 'web', '-c', 'ticker', '--since=1s'])).split('\n').filter(Boolean).length;
    assert.ok(recent >= 1 && recent <= 10 && recent < all, `${what}: --since=1s gave ${recent} of ${all} lines`);

    // logs -f: each line as it is written, and kubectl ends when the container does
    const name = `once-${minor}`;
    await k.ok(['apply', '-f', '-'], { stdin: oncePod(name) });
    await eventually(
      `${name} runs`,
      async () => ((await k(['logs', name])).stdout === 'a\n' ? true : undefined),
      30_000
    );
    const follow = k.spawn(['logs', '-f', name]);
    t.after(() => void follow.kill('SIGKILL'));
    const seen: string[] = [];
    follow.stdout!.on('data', (d: Buffer) => seen.push(...d.toString().split('\n').filter(Boolean)));
    const closed = new Promise((r) => follow.once('close', r));
    await eventually(`${what}: logs -f shows a`, async () => (seen.length ? true : undefined), 30_000);
    assert.deepEqual(seen, ['a'], what);
    await k.ok(['exec', name, '--', 'touch', '/tmp/go']);
    const started = Date.now();
    assert.equal(await closed, 0, what);
    assert.deepEqual(seen, ['a', 'b'], `${what}: b as it was written, then the end with the pod`);
    assert.ok(Date.now() - started < 30_000, `${what}: logs -f ended with the pod`);

    // nodes/proxy: the kubelet's own endpoints
    assert.equal(await k.ok(['get', '--raw', `/api/v1/nodes/${up.nodeName}/proxy/healthz`]), 'ok', what);
    assert.match(await k.ok(['get', '--raw', `/api/v1/nodes/${up.nodeName}/proxy/metrics`]), /# TYPE /, what);

    // services/proxy: name (the unnamed port), name:port (mapped to its name), name:portname
    const svc = (id: string, path: string) =>
      k.ok(['get', '--raw', `/api/v1/namespaces/default/services/${id}/proxy/${path}`]);
    assert.equal(
      await eventually('websvc has endpoints', () => svc('websvc', 'a').catch(() => undefined)),
      'hi /a',
      what
    );
    assert.equal(await svc('websvc:80', 'b?x=1'), 'hi /b?x=1', what);
    assert.equal(await svc('websvc2:http', 'c'), 'hi /c', what);
    assert.equal(await svc('websvc2:82', 'd'), 'hi /d', what);
    assert.equal(await svc('http:websvc2:alt', 'e'), 'hi /e', what);

    // kubectl proxy, then a plain GET through pods/NAME:PORT/proxy
    const proxy = k.spawn(['proxy', '--port=0']);
    t.after(() => void proxy.kill('SIGKILL'));
    let out = '';
    const proxyPort = await new Promise<number>((resolve, reject) => {
      proxy.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Starting to serve on 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      proxy.once('close', (code) => reject(new Error(`kubectl proxy exited ${code}: ${out}`)));
    });
    const res = await fetch(`http://127.0.0.1:${proxyPort}/api/v1/namespaces/default/pods/web:${port}/proxy/p?q=2`);
    assert.equal(res.status, 200, what);
    assert.equal(await res.text(), `hi /p?q=2`, what);
    proxy.kill('SIGKILL');
  }
  const longRun = await long;
  assert.deepEqual([longRun.code, longRun.stdout], [0, 'done\n'], longRun.stderr);
});

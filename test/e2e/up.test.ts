// `hubspoke up` as a user runs it: one process with the control plane and a local node, driven with the real
// kubectl. It runs the CLI through tsx (bin/hubspoke.js runs the same main from dist/, which a test cannot assume
// is built), so the start-up bounds are measured from the API server listening, not from the process spawn.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { request as httpsRequest } from 'node:https';
import { loadKubeconfig } from '../../src/lib/kubeconfig.js';
import { kubectl } from '../framework/kubectl.js';
import { containerPids } from '../framework/up.js';

const nodeName = 'up-test-node';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Up {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the kubeconfig path once `up` prints it. */
  ready: Promise<string>;
}

function startUp(dataDir: string, apiPort: number): Up {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'up',
      '--data-dir',
      dataDir,
      '--secure-port',
      String(apiPort),
      '--kubelet-port',
      '0',
      '--hostname-override',
      nodeName,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /export KUBECONFIG=(\S+)/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`up exited ${code} before it was up:\n${stderr}`)));
  });
  return { child, stdout: () => stdout, stderr: () => stderr, ready };
}

/** The time of the API server's "listening" log line (pino JSON on stderr). */
function apiServerListeningAt(stderr: string): number {
  for (const line of stderr.split('\n')) {
    if (!line.includes('"API server listening"')) continue;
    return (JSON.parse(line) as { time: number }).time;
  }
  throw new Error('no "API server listening" line');
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function poll<T>(what: string, timeoutMs: number, f: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const podManifest = (name: string, port: number, extra: string): string => `
apiVersion: v1
kind: Pod
metadata: { name: ${name}, labels: { app: web } }
spec:
  terminationGracePeriodSeconds: 2
  ${extra}
  containers:
  - name: web
    image: python:3
    # env first, for the environment check; then the server. As pid 1 it ignores SIGTERM, so deletion waits
    # out the grace period before the SIGKILL.
    # /who names the pod, for telling the Service's backends apart.
    command: [sh, -c, 'env; echo ${name} > /tmp/who; cd /tmp; exec python3 -m http.server ${port} --bind 127.0.0.1']
    ports: [{ name: http, containerPort: ${port} }]
    readinessProbe:
      httpGet: { port: ${port}, path: / }
      periodSeconds: 1
`;

test('hubspoke up: a local node, pods on it, Ctrl-C, and a second up on the same data dir', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hubspoke-up-'));
  const ups: Up[] = [];
  t.after(async () => {
    for (const u of ups) if (u.child.exitCode === null && u.child.pid) process.kill(u.child.pid, 'SIGKILL');
    for (const pid of await containerPids(dataDir)) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  // A fixed port for both runs: the node's kubeconfig names the server.
  const apiPort = await freePort();
  const up = startUp(dataDir, apiPort);
  ups.push(up);
  const kubeconfigPath = await up.ready;
  const k = kubectl(33, kubeconfigPath);
  const listening = apiServerListeningAt(up.stderr());
  await poll('the node Ready', 20_000, async () => {
    const r = await k(['get', 'node', nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
    return r.stdout === 'True' ? true : undefined;
  });
  const nodeReadyMs = Date.now() - listening;
  t.diagnostic(`node Ready ${nodeReadyMs} ms after the API server started listening`);
  assert.ok(nodeReadyMs < 5000, `node Ready ${nodeReadyMs} ms after the API server started listening`);
  const nodes = await k.ok(['get', 'nodes']);
  assert.match(nodes, new RegExp(`^${nodeName}\\s+Ready\\s`, 'm'));
  // Joined by CSR like any other node: the bootstrap client CSR and the serving CSR, both approved.
  const csrs = await k.ok([
    'get',
    'csr',
    '-o',
    'jsonpath={range .items[*]}{.spec.signerName} {.spec.username}{"\\n"}{end}',
  ]);
  assert.match(csrs, /^kubernetes\.io\/kube-apiserver-client-kubelet system:bootstrap:[a-z0-9]{6}$/m);
  assert.match(csrs, new RegExp(`^kubernetes\\.io/kubelet-serving system:node:${nodeName}$`, 'm'));

  // A Service in the namespace, for the service environment of pods created after it.
  await k.ok(['create', 'service', 'clusterip', 'my-svc', '--tcp=8080:80']);
  const [webPort, quietPort] = [await freePort(), await freePort()];
  const applied = Date.now();
  await k.ok(['apply', '-f', '-'], { stdin: podManifest('web', webPort, '') });
  await k.ok(['wait', '--for=condition=Ready', 'pod/web', '--timeout=20s']);
  const podReadyMs = Date.now() - applied;
  t.diagnostic(`pod Ready ${podReadyMs} ms after apply`);
  assert.ok(podReadyMs < 3000, `pod Running and Ready ${podReadyMs} ms after apply`);
  assert.equal(await k.ok(['get', 'pod', 'web', '-o', 'jsonpath={.status.phase}']), 'Running');
  const res = await fetch(`http://127.0.0.1:${webPort}/`);
  assert.equal(res.status, 200);

  // Issue 8 part 3: the service environment, upstream's names, the ClusterIPs from the API.
  const kubernetesIP = await k.ok(['get', 'service', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}']);
  const svcIP = await k.ok(['get', 'service', 'my-svc', '-o', 'jsonpath={.spec.clusterIP}']);
  const env = await k.ok(['logs', 'web']);
  for (const line of [
    `KUBERNETES_SERVICE_HOST=${kubernetesIP}`,
    'KUBERNETES_SERVICE_PORT=443',
    'KUBERNETES_SERVICE_PORT_HTTPS=443',
    `KUBERNETES_PORT=tcp://${kubernetesIP}:443`,
    `KUBERNETES_PORT_443_TCP=tcp://${kubernetesIP}:443`,
    'KUBERNETES_PORT_443_TCP_PROTO=tcp',
    'KUBERNETES_PORT_443_TCP_PORT=443',
    `KUBERNETES_PORT_443_TCP_ADDR=${kubernetesIP}`,
    `MY_SVC_SERVICE_HOST=${svcIP}`,
    'MY_SVC_SERVICE_PORT=8080',
    `MY_SVC_PORT_8080_TCP=tcp://${svcIP}:8080`,
  ])
    assert.match(env, new RegExp(`^${line.replace(/[.]/g, '\\.')}$`, 'm'), `${line} in\n${env}`);

  // The kubernetes VIP through kube-proxy: TLS to the API server, verified with the cluster CA for the ClusterIP.
  const { caPem } = await loadKubeconfig(kubeconfigPath);
  const vipStatus = await new Promise<number>((resolve, reject) =>
    httpsRequest({ host: kubernetesIP, port: 443, path: '/version', ca: caPem }, (r) => {
      r.resume();
      resolve(r.statusCode ?? 0);
    })
      .on('error', reject)
      .end()
  );
  assert.equal(vipStatus, 401, 'anonymous is off: the API server answered through the VIP');

  // enableServiceLinks: false → only the kubernetes Service's variables. This pod outlives `up`.
  await k.ok(['apply', '-f', '-'], { stdin: podManifest('quiet', quietPort, 'enableServiceLinks: false') });
  await k.ok(['wait', '--for=condition=Ready', 'pod/quiet', '--timeout=20s']);
  const quietEnv = await k.ok(['logs', 'quiet']);
  assert.match(quietEnv, /^KUBERNETES_SERVICE_HOST=/m);
  assert.doesNotMatch(quietEnv, /^MY_SVC_/m);

  // kube-proxy (userspace): the Service's ClusterIP (in 127/8) reaches both pods, by the named target port.
  await k.ok(['apply', '-f', '-'], {
    stdin:
      'apiVersion: v1\nkind: Service\nmetadata: { name: web-svc }\n' +
      'spec: { selector: { app: web }, ports: [{ port: 80, targetPort: http }] }\n',
  });
  const webSvcIP = await k.ok(['get', 'service', 'web-svc', '-o', 'jsonpath={.spec.clusterIP}']);
  const who = async (): Promise<string> =>
    fetch(`http://${webSvcIP}/who`).then(
      async (r) => (await r.text()).trim(),
      (err: Error) => `error: ${err.message}`
    );
  const backends = await poll('both pods behind the ClusterIP', 10_000, async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(await who());
    return seen.has('web') && seen.has('quiet') ? seen : undefined;
  });
  assert.deepEqual([...backends].sort(), ['quiet', 'web']);

  // Deletion honours the grace period: SIGTERM is ignored, so it takes the 2 s before the SIGKILL.
  const webPids = await containerPids(dataDir);
  const deleting = Date.now();
  await k.ok(['delete', 'pod', 'web']);
  const deleteMs = Date.now() - deleting;
  assert.ok(deleteMs >= 2000 && deleteMs < 8000, `delete took ${deleteMs} ms with a 2 s grace period`);
  await assert.rejects(fetch(`http://127.0.0.1:${webPort}/`));
  // …and the Service's traffic continues, to the pod that is left.
  await poll('web out of the EndpointSlice', 5000, async () => ((await who()) === 'quiet' ? true : undefined));
  for (let i = 0; i < 4; i++) assert.equal(await who(), 'quiet');

  // Ctrl-C: exit 0; the up process is gone, web's processes are gone, quiet's keep running (the kubelet's design).
  const quietPids = (await containerPids(dataDir)).filter((p) => alive(p));
  assert.ok(quietPids.length >= 2, 'quiet has its shim and its container');
  const csrCount = (await k.ok(['get', 'csr', '-o', 'name'])).trim().split('\n').length;
  up.child.kill('SIGINT');
  const [code] = (await once(up.child, 'exit')) as [number | null];
  assert.equal(code, 0, up.stderr());
  assert.equal(alive(up.child.pid!), false);
  for (const pid of webPids.filter((p) => !quietPids.includes(p))) assert.equal(alive(pid), false, `pid ${pid}`);
  for (const pid of quietPids) assert.ok(alive(pid), `quiet's pid ${pid} survives up`);
  assert.equal((await fetch(`http://127.0.0.1:${quietPort}/`)).status, 200);

  // A second up on the data dir: no new CSR (the node's certificates are reused), the running pod adopted.
  const again = startUp(dataDir, apiPort);
  ups.push(again);
  await again.ready;
  assert.doesNotMatch(again.stderr(), /bootstrapping a client certificate/);
  assert.equal((await k.ok(['get', 'csr', '-o', 'name'])).trim().split('\n').length, csrCount);
  await k.ok(['wait', '--for=condition=Ready', 'pod/quiet', '--timeout=20s']);
  assert.equal(await k.ok(['get', 'pod', 'quiet', '-o', 'jsonpath={.status.containerStatuses[0].restartCount}']), '0');
  await k.ok(['delete', 'pod', 'quiet']);
  // The pod object goes once the container has exited; its shim exits just after.
  await poll("quiet's processes to exit", 3000, async () => (quietPids.some(alive) ? undefined : true));
  again.child.kill('SIGINT');
  const [code2] = (await once(again.child, 'exit')) as [number | null];
  assert.equal(code2, 0, again.stderr());
});

// The kubelet against a real control plane, running real bubblewrap sandboxes: registration, heartbeat,
// pods that serve, crash, terminate gracefully, read their service-account credentials, and survive a kubelet
// restart. kubectl 1.33 is the judge where a user would look.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { readFile, stat } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { KubeClient } from '../../src/lib/kube-client.js';
import { processAlive } from '../../src/kubelet/runtime/state.js';
import { startTestControlPlane, type TestControlPlane } from '../framework/control-plane.js';
import { startTestKubelet, type TestKubelet } from '../framework/kubelet.js';
import { kubectl, type Kubectl } from '../framework/kubectl.js';

// Clean-ups registered during set-up run, last first, when the suite ends.
const cleanups: (() => Promise<void> | void)[] = [];
const hook = { after: (fn: () => Promise<void>) => void cleanups.push(fn) };
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});
let cp: TestControlPlane;
let tk: TestKubelet;
let admin: KubeClient;
let k: Kubectl;

async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
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

const getPod = (name: string): Promise<Pod> => admin.get<Pod>(`/api/v1/namespaces/default/pods/${name}`);

function createPod(name: string, spec: Record<string, unknown>): Promise<Pod> {
  return admin.request<Pod>('POST', '/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { nodeName: tk.nodeName, ...spec },
  });
}

before(async () => {
  cp = await startTestControlPlane(hook);
  const { ca, admin: a } = cp.server.pki;
  admin = new KubeClient({ server: cp.url, caPem: ca.cert, certPem: a.cert, keyPem: a.key });
  cleanups.push(() => admin.close());
  // The Node authorizer grants a node what its pods need; binding system:node to this node's user as well keeps
  // the test independent of the authorization mode the control plane runs with.
  tk = await startTestKubelet(hook, cp, { config: { nodeLeaseDurationSeconds: 4, nodeStatusUpdateFrequency: '1s' } });
  k = kubectl(33, cp.kubeconfigPath);
});

describe('kubelet', () => {
  it('registers the node, reports it Ready and renews its Lease', async () => {
    const node = await admin.get<any>('/api/v1/nodes/node-1');
    assert.deepEqual(node.status.addresses, [
      { type: 'InternalIP', address: '127.0.0.1' },
      { type: 'Hostname', address: 'node-1' },
    ]);
    for (const r of ['cpu', 'memory', 'pods', 'ephemeral-storage']) {
      assert.ok(node.status.capacity[r], `capacity.${r}`);
      assert.ok(node.status.allocatable[r], `allocatable.${r}`);
    }
    assert.equal(node.status.nodeInfo.kubeletVersion, 'v1.33.0-hubspoke');
    assert.match(node.status.nodeInfo.containerRuntimeVersion, /^bwrap:\/\/\d/);
    assert.equal(node.status.nodeInfo.operatingSystem, 'linux');
    // The port the kubelet's HTTPS server bound (a free one in tests), else the configured one.
    assert.equal(node.status.daemonEndpoints.kubeletEndpoint.Port, tk.kubelet.server?.port ?? tk.kubelet.options.port);
    assert.equal(node.metadata.labels['kubernetes.io/hostname'], 'node-1');
    const ready = node.status.conditions.find((c: any) => c.type === 'Ready');
    assert.equal(ready.status, 'True');
    assert.equal(ready.reason, 'KubeletReady');
    assert.equal(ready.message, 'kubelet is posting ready status');
    const mem = node.status.conditions.find((c: any) => c.type === 'MemoryPressure');
    assert.deepEqual([mem.status, mem.reason], ['False', 'KubeletHasSufficientMemory']);

    const leasePath = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1';
    const first = await until('the lease', 3000, () => admin.get<any>(leasePath));
    assert.equal(first.spec.holderIdentity, 'node-1');
    assert.equal(first.spec.leaseDurationSeconds, 4);
    assert.equal(first.metadata.ownerReferences[0].kind, 'Node');
    // Renewed every quarter of the lease duration: 1 s here.
    await until(
      'a renewal',
      3000,
      async () => (await admin.get<any>(leasePath)).spec.renewTime !== first.spec.renewTime
    );

    const out = await k.ok(['get', 'nodes']);
    assert.match(out, /node-1\s+Ready\s/);

    // Someone else (the node-lifecycle controller) marks the node Unknown: the next status check puts it back.
    await admin.request(
      'PATCH',
      '/api/v1/nodes/node-1/status',
      { status: { conditions: [{ ...ready, status: 'Unknown', reason: 'NodeStatusUnknown' }] } },
      'application/strategic-merge-patch+json'
    );
    await until('Ready again', 4000, async () => {
      const n = await admin.get<any>('/api/v1/nodes/node-1');
      return n.status.conditions.find((c: any) => c.type === 'Ready')?.status === 'True';
    });
  });

  it('runs init containers in order, then the app with its volumes and environment', async () => {
    await admin.request('POST', '/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'cfg' },
      data: { greeting: 'hello' },
    });
    await admin.request('POST', '/api/v1/namespaces/default/secrets', {
      metadata: { name: 'sec' },
      stringData: { pw: 's3cret' },
    });
    const main = [
      'cat /work/init.txt',
      'cat /etc/cfg/greeting; echo',
      'cat /etc/sec/pw; echo',
      'stat -L -c %a /etc/sec/pw',
      'cat /etc/podinfo/labels; echo',
      'echo "$GREETING $POD_NAME $PW_ENV"',
      'pwd',
    ].join('; ');
    await createPod('init', {
      restartPolicy: 'Never',
      initContainers: [
        {
          name: 'first',
          image: 'busybox',
          command: ['/bin/sh', '-c', 'echo one > /work/init.txt'],
          volumeMounts: [{ name: 'work', mountPath: '/work' }],
        },
        {
          name: 'second',
          image: 'busybox',
          command: ['/bin/sh', '-c', 'echo two >> /work/init.txt'],
          volumeMounts: [{ name: 'work', mountPath: '/work' }],
        },
      ],
      containers: [
        {
          name: 'main',
          image: 'busybox',
          command: ['/bin/sh', '-c', main],
          workingDir: '/work',
          env: [
            { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'greeting' } } },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'PW_ENV', valueFrom: { secretKeyRef: { name: 'sec', key: 'pw' } } },
          ],
          volumeMounts: [
            { name: 'work', mountPath: '/work' },
            { name: 'cfg', mountPath: '/etc/cfg' },
            { name: 'sec', mountPath: '/etc/sec' },
            { name: 'podinfo', mountPath: '/etc/podinfo' },
          ],
        },
      ],
      volumes: [
        { name: 'work', emptyDir: {} },
        { name: 'cfg', configMap: { name: 'cfg' } },
        { name: 'sec', secret: { secretName: 'sec', defaultMode: 0o400 } },
        { name: 'podinfo', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
      ],
    });
    const pod = await until('init to succeed', 10_000, async () => {
      const p = await getPod('init');
      return (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') && p;
    });
    const log = (await readFile(tk.kubelet.containerLogFiles('default', 'init', 'main')[0]!, 'utf8'))
      .split('\n')
      .map((l) => l.replace(/^\S+ stdout F /, ''));
    assert.equal(pod.status!.phase, 'Succeeded', log.join('\n'));
    assert.deepEqual(log.slice(0, 8), ['one', 'two', 'hello', 's3cret', '400', '', 'hello init s3cret', '/work']);
    assert.deepEqual(
      pod.status!.initContainerStatuses!.map((s) => [s.name, s.state?.terminated?.reason, s.ready]),
      [
        ['first', 'Completed', true],
        ['second', 'Completed', true],
      ]
    );
    const ready = pod.status!.conditions!.find((c) => c.type === 'Ready')!;
    assert.deepEqual([ready.status, ready.reason], ['False', 'PodCompleted']);
  });

  it('restarts a container whose liveness probe fails', async () => {
    const port = await freePort(); // nothing listens there
    await createPod('unhealthy', {
      containers: [
        {
          name: 'main',
          image: 'busybox',
          command: ['/bin/sh', '-c', 'while :; do sleep 0.2; done'],
          livenessProbe: { tcpSocket: { port }, periodSeconds: 1, failureThreshold: 1 },
        },
      ],
      terminationGracePeriodSeconds: 1,
    });
    const pod = await until('a liveness restart', 8000, async () => {
      const p = await getPod('unhealthy');
      return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 && p;
    });
    assert.equal(pod.status!.containerStatuses![0]!.lastState!.terminated!.exitCode, 137);
    await admin.request('DELETE', '/api/v1/namespaces/default/pods/unhealthy');
  });

  it('runs an HTTP server pod that is Running and Ready within 3 s', async () => {
    const port = await freePort();
    const created = Date.now();
    await createPod('web', {
      containers: [
        {
          name: 'web',
          image: 'python:3',
          command: ['/usr/bin/python3', '-m', 'http.server', String(port), '--bind', '127.0.0.1'],
          workingDir: '/tmp',
          readinessProbe: { httpGet: { path: '/', port }, periodSeconds: 1 },
        },
      ],
    });
    const pod = await until('web Ready', 3000, async () => {
      const p = await getPod('web');
      return p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && p;
    });
    assert.ok(Date.now() - created < 3000);
    const st = pod.status!;
    assert.equal(st.phase, 'Running');
    assert.equal(st.podIP, '127.0.0.1');
    assert.equal(st.hostIP, '127.0.0.1');
    assert.ok(st.startTime);
    assert.deepEqual(
      st.conditions!.map((c) => [c.type, c.status]),
      [
        ['PodReadyToStartContainers', 'True'],
        ['Initialized', 'True'],
        ['Ready', 'True'],
        ['ContainersReady', 'True'],
        ['PodScheduled', 'True'],
      ]
    );
    const cs = st.containerStatuses![0]!;
    assert.equal(cs.ready, true);
    assert.equal(cs.started, true);
    assert.equal(cs.restartCount, 0);
    assert.ok(cs.state?.running?.startedAt);
    assert.match(cs.containerID!, /^bwrap:\/\/[0-9a-f]{64}$/);
    assert.equal(cs.imageID, 'hubspoke://python:3');

    // The in-process interface for the kubelet server: exec in the sandbox, dial the pod, read its logs.
    const p = tk.kubelet.exec('default', 'web', 'web', [
      '/bin/sh',
      '-c',
      'echo $(hostname) $$; ls /proc | grep -c "^[0-9]"',
    ]);
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise((r) => p.on('close', r));
    assert.equal(code, 0);
    const [host, pid] = out.trim().split(/\s+/);
    assert.equal(host, 'web'); // its own uts namespace
    assert.ok(Number(pid) < 100, `exec runs in the pod's pid namespace (pid ${pid})`);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const [logFile] = tk.kubelet.containerLogFiles('default', 'web', 'web');
    assert.match(logFile!, /default_web_[0-9a-f-]+\/web\/0\.log$/);
    const log = await until('a log line', 2000, async () => (await readFile(logFile!, 'utf8')) || undefined);
    assert.match(log.split('\n')[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (stdout|stderr) [FP] /);
    assert.throws(
      () => tk.kubelet.containerLogFiles('default', 'web', 'nope'),
      /container "nope" not found in pod "web"/
    );
  });

  it('shows restarts, exit codes and CrashLoopBackOff for a crashing container', async () => {
    await createPod('crash', {
      containers: [{ name: 'crash', image: 'busybox', command: ['/bin/sh', '-c', 'echo boom; exit 3'] }],
    });
    const pod = await until('CrashLoopBackOff', 8000, async () => {
      const p = await getPod('crash');
      return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff' && p;
    });
    const cs = pod.status!.containerStatuses![0]!;
    assert.equal(cs.restartCount, 1);
    assert.match(cs.state!.waiting!.message!, /^back-off 10s restarting failed container=crash pod=crash_default\(/);
    assert.equal(cs.lastState!.terminated!.exitCode, 3);
    assert.equal(cs.lastState!.terminated!.reason, 'Error');
    assert.ok(cs.lastState!.terminated!.finishedAt);
    assert.equal(cs.ready, false);
    assert.equal(pod.status!.phase, 'Running');
    const out = await k.ok(['get', 'pod', 'crash']);
    assert.match(out, /crash\s+0\/1\s+CrashLoopBackOff\s+1 \(/);
    const events = await admin.get<any>('/api/v1/namespaces/default/events');
    assert.ok(
      events.items.some(
        (e: any) => e.involvedObject.name === 'crash' && e.reason === 'BackOff' && e.source.component === 'kubelet'
      ),
      'a BackOff event'
    );
    const prev = tk.kubelet.containerLogFiles('default', 'crash', 'crash', true);
    assert.match(await readFile(prev.at(-1)!, 'utf8'), / stdout F boom\n$/);
  });

  it('honours the grace period on kubectl delete', async () => {
    const script = 'trap "echo got TERM; sleep 1; exit 0" TERM; while :; do sleep 0.1; done';
    await createPod('graceful', {
      terminationGracePeriodSeconds: 10,
      containers: [{ name: 'main', image: 'busybox', command: ['/bin/sh', '-c', script] }],
    });
    await createPod('stubborn', {
      terminationGracePeriodSeconds: 2,
      containers: [
        { name: 'main', image: 'busybox', command: ['/bin/sh', '-c', 'trap "" TERM; while :; do sleep 0.1; done'] },
      ],
    });
    for (const name of ['graceful', 'stubborn'])
      await until(`${name} Running`, 5000, async () => (await getPod(name)).status?.phase === 'Running');
    const logFile = tk.kubelet.containerLogFiles('default', 'graceful', 'main')[0]!;

    let t0 = Date.now();
    await k.ok(['delete', 'pod', 'graceful']);
    const gracefulMs = Date.now() - t0;
    assert.ok(gracefulMs >= 1000 && gracefulMs < 8000, `the trap ran for 1 s (${gracefulMs} ms)`);
    t0 = Date.now();
    await k.ok(['delete', 'pod', 'stubborn']);
    const stubbornMs = Date.now() - t0;
    assert.ok(stubbornMs >= 2000 && stubbornMs < 6000, `SIGKILL after the 2 s grace period (${stubbornMs} ms)`);
    await assert.rejects(getPod('graceful'), /not found/);
    await assert.rejects(stat(logFile), /ENOENT/); // the pod's logs went with it
  });

  it('gives a pod service-account credentials that authenticate to the API server', async () => {
    await admin.request('POST', '/api/v1/namespaces/default/serviceaccounts', { metadata: { name: 'robot' } });
    // The root CA publisher keeps kube-root-ca.crt in every namespace; without it the test provides it.
    await until('kube-root-ca.crt', 3000, () =>
      admin.get('/api/v1/namespaces/default/configmaps/kube-root-ca.crt')
    ).catch(() =>
      admin.request('POST', '/api/v1/namespaces/default/configmaps', {
        metadata: { name: 'kube-root-ca.crt' },
        data: { 'ca.crt': cp.server.pki.ca.cert },
      })
    );
    const url = new URL(cp.url);
    const script = `
import json, os, ssl, urllib.request, urllib.error
d = '/var/run/secrets/kubernetes.io/serviceaccount'
token = open(d + '/token').read()
ns = open(d + '/namespace').read()
ctx = ssl.create_default_context(cafile=d + '/ca.crt')
ctx.check_hostname = False
req = urllib.request.Request('https://${url.hostname}:${url.port}/api/v1/namespaces/' + ns + '/secrets', headers={'Authorization': 'Bearer ' + token})
try:
    code = urllib.request.urlopen(req, context=ctx).status
    body = ''
except urllib.error.HTTPError as e:
    code, body = e.code, e.read().decode()
print(json.dumps({'ns': ns, 'code': code, 'body': body, 'mode': oct(os.stat(d + '/token').st_mode & 0o777), 'data': os.readlink(d + '/..data')}))
`;
    await createPod('sa', {
      serviceAccountName: 'robot',
      restartPolicy: 'Never',
      containers: [
        {
          name: 'main',
          image: 'python:3',
          command: ['/usr/bin/python3', '-c', script],
        },
      ],
    });
    // The ServiceAccount admission plugin added the projected volume and its mount.
    const created = await getPod('sa');
    const volume = created.spec!.volumes!.find((v) => v.name.startsWith('kube-api-access-'));
    assert.deepEqual(
      volume?.projected?.sources?.map((s) => Object.keys(s)[0]),
      ['serviceAccountToken', 'configMap', 'downwardAPI']
    );
    const pod = await until('sa to finish', 8000, async () => {
      const p = await getPod('sa');
      return (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') && p;
    });
    const log = await readFile(tk.kubelet.containerLogFiles('default', 'sa', 'main')[0]!, 'utf8');
    assert.equal(pod.status!.phase, 'Succeeded', log);
    console.log('SA RESULT', log);
    const result = JSON.parse(log.split('\n')[0]!.replace(/^\S+ stdout F /, ''));
    assert.equal(result.ns, 'default');
    assert.equal(result.mode, '0o644');
    assert.match(result.data, /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\./);
    // Authenticated as the service account: either allowed, or refused by name (never 401).
    assert.notEqual(result.code, 401, result.body);
    if (result.code === 403) assert.match(result.body, /system:serviceaccount:default:robot/);
    const cs = pod.status!.containerStatuses![0]!;
    assert.deepEqual([cs.state?.terminated?.exitCode, cs.state?.terminated?.reason], [0, 'Completed']);
  });

  it('keeps pods running across a kubelet restart and adopts them', async () => {
    await createPod('orphan', {
      containers: [{ name: 'main', image: 'busybox', command: ['/bin/sh', '-c', 'while :; do sleep 0.2; done'] }],
    });
    await createPod('survivor', {
      containers: [
        {
          name: 'main',
          image: 'busybox',
          command: ['/bin/sh', '-c', 'while :; do sleep 0.2; done'],
          readinessProbe: { exec: { command: ['/bin/true'] }, periodSeconds: 1 },
        },
      ],
    });
    const before = await until('survivor Ready', 5000, async () => {
      const p = await getPod('survivor');
      return p.status?.containerStatuses?.[0]?.ready && p;
    });
    const orphan = await until('orphan Running', 5000, async () => {
      const p = await getPod('orphan');
      return p.status?.containerStatuses?.[0]?.state?.running && p;
    });
    const pidOf = (containerID: string) =>
      tk.kubelet.runtime.list().find((c) => `bwrap://${c.config.id}` === containerID)!.state.pid;
    const id = before.status!.containerStatuses![0]!.containerID!;
    const pid = pidOf(id);
    const orphanPid = pidOf(orphan.status!.containerStatuses![0]!.containerID!);
    // While the kubelet is down, one of its pods is force-deleted: the next kubelet stops what is left of it.
    await tk.restart(() =>
      admin.request('DELETE', '/api/v1/namespaces/default/pods/orphan', { gracePeriodSeconds: 0 })
    );
    assert.ok(processAlive(pid), 'the container outlived the kubelet');
    await until('the orphan stopped', 5000, async () => !processAlive(orphanPid));
    // The new kubelet adopts it: same container, no restart, still Running, and it can still stop it.
    await new Promise((r) => setTimeout(r, 1500));
    const after = await getPod('survivor');
    const cs = after.status!.containerStatuses![0]!;
    assert.equal(cs.containerID, id);
    assert.equal(cs.restartCount, 0);
    assert.ok(cs.state?.running);
    assert.equal(cs.ready, true, 'readiness carried over, no flap');
    assert.ok(tk.kubelet.runtime.get(id.slice('bwrap://'.length)), 'adopted');
    await k.ok(['delete', 'pod', 'survivor', '--grace-period=1']);
    assert.ok(!processAlive(pid), 'the adopted container was stopped');
  });
});

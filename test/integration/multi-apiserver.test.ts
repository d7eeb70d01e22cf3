// Two `hubspoke server` processes on one three-member etcd: each sees the other's writes in reads, lists and
// watches; optimistic concurrency holds across them; slow watchers are cut off with memory bounded while others go
// on; an informer that falls behind re-lists and carries on; kill -9 of the server whose controllers lead hands
// the controllers to the other within the lease time, and its identity lease is collected.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IncomingMessage } from 'node:http';
import { StatusError } from '../../src/api/errors.js';
import { runInformer } from '../../src/lib/informer.js';
import type { KubeClient, WatchEvent } from '../../src/lib/kube-client.js';
import { silentLogger } from '../../src/lib/log.js';
import { startEtcdCluster, type EtcdCluster } from '../framework/etcd.js';
import { startServerProcess, type ServerProcess } from '../framework/server-process.js';

// Cleanups registered while `before` runs belong to the whole file, not to the hook: run them at the end, last first.
const cleanups: (() => Promise<void>)[] = [];
const hook = { after: (fn: () => Promise<void>) => void cleanups.push(fn) };
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});
const leaseDurationMs = 3000;
const retryPeriodMs = 500;
const windowSize = 50;

let etcd: EtcdCluster;
let a: ServerProcess;
let b: ServerProcess;
let ca: KubeClient;
let cb: KubeClient;

before(async () => {
  etcd = await startEtcdCluster(hook);
  const dirs = await Promise.all([1, 2].map(() => mkdtemp(join(tmpdir(), 'hubspoke-multi-'))));
  hook.after(async () => void (await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))));
  const flags = [
    ...etcd.apiServerFlags(),
    '--leader-elect-lease-duration',
    `${leaseDurationMs}ms`,
    '--leader-elect-renew-deadline',
    '2s',
    '--leader-elect-retry-period',
    `${retryPeriodMs}ms`,
    '--identity-lease-duration-seconds',
    '2',
    '--identity-lease-renew-interval-seconds',
    '1',
    '--default-watch-cache-size',
    String(windowSize),
  ];
  a = await startServerProcess(hook, dirs[0]!, flags);
  // A second control-plane member shares the cluster CA and keys (kubeadm join --control-plane copies them).
  await cp(join(dirs[0]!, 'pki'), join(dirs[1]!, 'pki'), { recursive: true });
  b = await startServerProcess(hook, dirs[1]!, flags);
  ca = await a.adminClient();
  cb = await b.adminClient();
});

const cmPath = (ns: string, name = '') => `/api/v1/namespaces/${ns}/configmaps${name ? `/${name}` : ''}`;

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

test('multi-apiserver - an object created through one server is read, listed and watched through the other', async () => {
  const list = await cb.get(cmPath('default'));
  const abort = new AbortController();
  const events = cb.watch(`${cmPath('default')}?resourceVersion=${list.metadata.resourceVersion}`, abort.signal);
  const first = events.next();
  await sleep(200); // the watch is open on b
  const started = Date.now();
  const created = await ca.request('POST', cmPath('default'), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'shared' },
    data: { k: 'v1' },
  });
  // GET reads etcd; a LIST without resourceVersion is a consistent read: b's cache catches up first.
  assert.equal((await cb.get(cmPath('default', 'shared'))).metadata.uid, created.metadata.uid);
  const listed = await cb.get(cmPath('default'));
  assert.ok(listed.items.some((i: any) => i.metadata.uid === created.metadata.uid));
  assert.ok(Number(listed.metadata.resourceVersion) >= Number(created.metadata.resourceVersion));
  const ev = (await Promise.race([first, sleep(5000).then(() => assert.fail('no watch event in 5 s'))]))
    .value as WatchEvent;
  const ms = Date.now() - started;
  await events.return(undefined);
  abort.abort();
  assert.equal(ev.type, 'ADDED');
  assert.equal(ev.object.metadata.name, 'shared');
  assert.ok(ms < 1000, `watch event through the other server after ${ms} ms`);
});

test('multi-apiserver - a conflicting update through the second server gets 409', async () => {
  const created = await ca.request('POST', cmPath('default'), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'contended' },
    data: { k: 'v1' },
  });
  await ca.request('PUT', cmPath('default', 'contended'), { ...created, data: { k: 'from-a' } });
  await assert.rejects(
    cb.request('PUT', cmPath('default', 'contended'), { ...created, data: { k: 'from-b' } }),
    (err) =>
      err instanceof StatusError &&
      err.code === 409 &&
      /the object has been modified; please apply your changes to the latest version and try again/.test(err.message)
  );
  assert.equal((await cb.get(cmPath('default', 'contended'))).data.k, 'from-a');
});

/** A watch whose response is never read: the client stopped reading. */
async function stalledWatch(server: ServerProcess, path: string): Promise<IncomingMessage> {
  const pki = join(server.dataDir, 'pki');
  const tls = {
    ca: await readFile(join(pki, 'ca.crt'), 'utf8'),
    cert: await readFile(join(pki, 'admin.crt'), 'utf8'),
    key: await readFile(join(pki, 'admin.key'), 'utf8'),
  };
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, tls, (res) => {
      res.pause();
      resolve(res);
    });
    req.on('error', reject);
    req.end();
  });
}

test('multi-apiserver - a watcher that stops reading is cut off, others go on, memory bounded; a stalled informer re-lists', async () => {
  const ns = 'default';
  const base = await ca.request('POST', cmPath(ns), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'churn' },
    data: { v: '0' },
  });
  const rv0 = base.metadata.resourceVersion as string;
  const watchPath = `${cmPath(ns)}?watch=1&resourceVersion=${rv0}&fieldSelector=metadata.name%3Dchurn`;
  const slow = await stalledWatch(a, watchPath);
  let slowClosed = false;
  slow.socket.once('close', () => (slowClosed = true));

  // A reader that keeps up, on the same server.
  const fastAbort = new AbortController();
  let fastSeen = 0;
  let fastLast = '';
  const fast = (async () => {
    for await (const ev of ca.watch(
      `${cmPath(ns)}?resourceVersion=${rv0}&fieldSelector=metadata.name%3Dchurn`,
      fastAbort.signal
    )) {
      if (ev.type === 'MODIFIED') {
        fastSeen++;
        fastLast = ev.object.data.v;
      }
    }
  })();

  // An informer on the other server whose watch stalls until the burst is over.
  let release!: () => void;
  const stalled = new Promise<void>((r) => (release = r));
  let stalledOnce = false;
  const stallingClient = {
    get: (p: string) => cb.get(p),
    async *watch(p: string, signal: AbortSignal) {
      for await (const ev of cb.watch(p, signal)) {
        if (!stalledOnce && ev.type !== 'BOOKMARK') {
          stalledOnce = true;
          await stalled;
        }
        yield ev;
      }
    },
  } as unknown as KubeClient;
  const informerAbort = new AbortController();
  let informerValue = '';
  let informerEvents = 0;
  void runInformer<any>(stallingClient, cmPath(ns), silentLogger, informerAbort.signal, (type, obj) => {
    if (obj.metadata.name !== 'churn') return;
    informerEvents++;
    if (type !== 'DELETED') informerValue = obj.data.v;
  });
  await sleep(300);

  const rssBefore = await a.rssBytes();
  const payload = 'x'.repeat(100_000);
  const writes = 200;
  let current = base;
  for (let i = 1; i <= writes; i++) {
    current = await ca.request('PUT', cmPath(ns, 'churn'), { ...current, data: { v: String(i), payload } });
  }
  const rssAfter = await a.rssBytes();
  await until(
    'the fast watcher to see every write',
    async () => (fastLast === String(writes) ? true : undefined),
    10_000
  );
  assert.equal(fastSeen, writes);
  await a.waitForLog(
    (l) => l.msg === 'forcing watcher close due to unresponsiveness' && l.resource === 'configmaps',
    10_000
  );
  // What the server had sent before it closed is still in the socket: once read, the stream ends.
  slow.resume();
  await until('the stalled watch to end', async () => (slowClosed ? true : undefined), 10_000);
  const growth = rssAfter - rssBefore;
  assert.ok(growth < 200 * 1024 * 1024, `server RSS grew by ${Math.round(growth / 1048576)} MiB`);

  // The informer resumes reading, finds its watch cut off, re-lists, and carries on with the newest state.
  release();
  await until('the informer to catch up', async () => (informerValue === String(writes) ? true : undefined), 10_000);
  assert.ok(informerEvents < writes, `informer skipped the backlog by re-listing (${informerEvents} events)`);
  await ca.request('PUT', cmPath(ns, 'churn'), { ...current, data: { v: 'after' } });
  await until('the informer to see a later write', async () => (informerValue === 'after' ? true : undefined), 5000);

  // A watch from a revision the window no longer holds is 410 Gone; the client lists again.
  const events = cb.watch(`${cmPath(ns)}?resourceVersion=${rv0}`, fastAbort.signal);
  const ev = (await events.next()).value as WatchEvent;
  assert.equal(ev.type, 'ERROR');
  assert.equal(ev.object.code, 410);
  assert.match(ev.object.message, /too old resource version/);
  await events.return(undefined);
  fastAbort.abort();
  informerAbort.abort();
  await fast;
});

async function holder(client: KubeClient): Promise<string> {
  const lease = await client.get('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager');
  return lease.spec.holderIdentity as string;
}

function identityOf(s: ServerProcess): string {
  const line = s.logs.find((l) => l.msg === 'controllers wait for the kube-controller-manager lease');
  return line!.identity as string;
}

async function defaultServiceAccount(client: KubeClient, ns: string): Promise<void> {
  await client.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await until(
    `ServiceAccount ${ns}/default`,
    () => client.get(`/api/v1/namespaces/${ns}/serviceaccounts/default`),
    5000
  );
}

test('multi-apiserver - kill -9 of the leading server: the other takes over the controllers within the lease time', async () => {
  const leaderId = await until('a leader', async () => (await holder(ca)) || undefined, 5000);
  const [leader, survivor, survivorClient] = leaderId === identityOf(a) ? [a, b, cb] : [b, a, ca];
  assert.equal(leaderId, identityOf(leader));
  await defaultServiceAccount(survivorClient, 'before-kill');
  const identityLeases = async () =>
    (
      await survivorClient.get(
        '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases?labelSelector=apiserver.kubernetes.io%2Fidentity%3Dkube-apiserver'
      )
    ).items.map(
      (l: any) =>
        `${l.metadata.annotations['hubspoke.io/advertise-address']}:${l.metadata.annotations['hubspoke.io/secure-port']}`
    );
  const port = (s: ServerProcess) => new URL(s.url).port;
  assert.deepEqual((await identityLeases()).sort(), [`127.0.0.1:${port(a)}`, `127.0.0.1:${port(b)}`].sort());

  await leader.kill();
  const killedAt = Date.now();
  await until(
    'the survivor to hold the lease',
    async () => ((await holder(survivorClient)) === identityOf(survivor) ? true : undefined),
    leaseDurationMs + 5000
  );
  const tookMs = Date.now() - killedAt;
  assert.ok(tookMs <= leaseDurationMs + 2 * 2.2 * retryPeriodMs + 500, `took over after ${tookMs} ms`);
  // Its controllers run now: a new namespace gets its default ServiceAccount.
  await defaultServiceAccount(survivorClient, 'after-kill');
  // The dead server's identity lease expires and is collected; the survivor's stays.
  await until(
    "the dead server's identity lease to be collected",
    async () => ((await identityLeases()).length === 1 ? true : undefined),
    8000
  );
  assert.deepEqual(await identityLeases(), [`127.0.0.1:${port(survivor)}`]);
});

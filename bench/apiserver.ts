// The API server's figures (issue 3's benchmark), through HTTPS with an admin client certificate as any client:
// creates/s, GET p50/p99 at 50 concurrent, LIST of N pods (from the watch cache) p50/p99, and watch fan-out
// (1 writer, 100 watchers: events delivered per second), each beside the storage put rate (Store.create on the
// same backend, same concurrency) measured in the same run. bench/storage.ts has the drivers' own put rates.
//
//   node --import tsx bench/apiserver.ts [--backend sqlite,etcd] [--creates 2000] [--api-pods 500] [--pods 10000]
//                                        [--watchers 100] [--events 500] [--tmpfs]
//
// SQLite runs with synchronous=FULL (the default); etcd is a three-member TLS cluster on loopback with its data on
// disk unless --tmpfs.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startControlPlane, type ControlPlane } from '../src/cli/control-plane.js';
import { KubeClient } from '../src/lib/kube-client.js';
import { silentLogger } from '../src/lib/log.js';
import { startEtcdCluster } from '../test/framework/etcd.js';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'sqlite,etcd' },
    creates: { type: 'string', default: '2000' },
    gets: { type: 'string', default: '5000' },
    pods: { type: 'string', default: '10000' },
    'api-pods': { type: 'string', default: '500' },
    lists: { type: 'string', default: '20' },
    watchers: { type: 'string', default: '100' },
    events: { type: 'string', default: '500' },
    tmpfs: { type: 'boolean', default: false },
  },
});
const concurrency = 50;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `n` operations from `c` loops; returns ops/s and each operation's latency in ms (sorted). */
async function run(n: number, c: number, op: (i: number) => Promise<unknown>): Promise<{ rate: number; ms: number[] }> {
  let next = 0;
  const ms: number[] = [];
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next < n) {
        const i = next++;
        const t0 = process.hrtime.bigint();
        await op(i);
        ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    })
  );
  return { rate: n / (Number(process.hrtime.bigint() - started) / 1e9), ms: ms.sort((x, y) => x - y) };
}

/** One KubeClient keeps 16 sockets; enough clients that 50 concurrent requests each have a connection. */
function clients(cp: ControlPlane, count: number): KubeClient[] {
  const { ca, admin } = cp.server.pki;
  return Array.from(
    { length: count },
    () => new KubeClient({ server: cp.server.address, caPem: ca.cert, certPem: admin.cert, keyPem: admin.key })
  );
}

const configMap = (name: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name },
  data: { payload: 'x'.repeat(512) },
});
const pod = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'bench' } },
  spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }], nodeName: 'bench-node' },
});

async function bench(backend: string, cp: ControlPlane): Promise<void> {
  const pool = clients(cp, 4);
  const c0 = pool[0]!;
  const pick = (i: number) => pool[i % pool.length]!;
  const out = (what: string, value: string) =>
    process.stdout.write(`${backend.padEnd(7)} ${what.padEnd(44)} ${value}\n`);
  await c0.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
  // Pods wait for their namespace's default ServiceAccount (ServiceAccount admission).
  for (let i = 0; ; i++) {
    try {
      await c0.get('/api/v1/namespaces/bench/serviceaccounts/default');
      break;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const creates = Number(args.creates);
  const raw = await run(creates, concurrency, (i) =>
    cp.server.store.create(`/registry/bench-raw/${i}`, JSON.stringify(configMap(`raw-${i}`)))
  );
  out(`storage put (Store.create, c=${concurrency})`, `${raw.rate.toFixed(0)}/s`);
  const api = await run(creates, concurrency, (i) =>
    pick(i).request('POST', '/api/v1/namespaces/bench/configmaps', configMap(`cm-${i}`))
  );
  out(
    `API create configmaps (c=${concurrency})`,
    `${api.rate.toFixed(0)}/s (${((100 * api.rate) / raw.rate).toFixed(0)}% of storage put)`
  );

  const gets = await run(Number(args.gets), concurrency, (i) =>
    pick(i).get(`/api/v1/namespaces/bench/configmaps/cm-${i % creates}`)
  );
  out(
    `API GET (c=${concurrency})`,
    `${gets.rate.toFixed(0)}/s p50 ${percentile(gets.ms, 50).toFixed(1)} ms p99 ${percentile(gets.ms, 99).toFixed(1)} ms`
  );

  const apiPods = Number(args['api-pods']);
  const pc = await run(apiPods, concurrency, (i) =>
    pick(i).request('POST', '/api/v1/namespaces/bench/pods', pod(`p-${i}`))
  );
  out(`API create pods (c=${concurrency})`, `${pc.rate.toFixed(0)}/s`);
  // The rest of the pods for the LIST go straight to storage in the shape the registry stores (a LIST benchmark,
  // not a create one: creating 10,000 through the API would take minutes on a loaded machine).
  const pods = Math.max(Number(args.pods), apiPods);
  await run(pods - apiPods, concurrency, (i) => {
    const name = `p-${apiPods + i}`;
    const stored = {
      ...pod(name),
      metadata: {
        ...pod(name).metadata,
        namespace: 'bench',
        uid: randomUUID(),
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
      status: { phase: 'Pending' },
    };
    return cp.server.store.create(`/registry/pods/bench/${name}`, JSON.stringify(stored));
  });
  const lists = await run(Number(args.lists), 1, async () => {
    const l = await c0.get('/api/v1/namespaces/bench/pods');
    if (l.items.length !== pods) throw new Error(`listed ${l.items.length} pods, want ${pods}`);
  });
  out(
    `LIST ${pods} pods (consistent, from cache)`,
    `p50 ${percentile(lists.ms, 50).toFixed(0)} ms p99 ${percentile(lists.ms, 99).toFixed(0)} ms`
  );
  const lists0 = await run(Number(args.lists), 1, () => c0.get('/api/v1/namespaces/bench/pods?resourceVersion=0'));
  out(
    `LIST ${pods} pods (resourceVersion=0)`,
    `p50 ${percentile(lists0.ms, 50).toFixed(0)} ms p99 ${percentile(lists0.ms, 99).toFixed(0)} ms`
  );
  const paged = await run(Number(args.lists), 1, () => c0.get('/api/v1/namespaces/bench/pods?limit=500'));
  out(
    'LIST first page of 500 (kubectl get)',
    `p50 ${percentile(paged.ms, 50).toFixed(1)} ms p99 ${percentile(paged.ms, 99).toFixed(1)} ms`
  );

  // Fan-out: every watcher on its own connection, one writer creating objects one after another.
  const watchers = Number(args.watchers);
  const events = Number(args.events);
  const wclients = clients(cp, watchers);
  const abort = new AbortController();
  const rv = (await c0.get('/api/v1/namespaces/bench/configmaps?limit=1')).metadata.resourceVersion as string;
  let delivered = 0;
  let lastAt = 0n;
  const done = Promise.all(
    wclients.map(async (w) => {
      let seen = 0;
      for await (const ev of w.watch(`/api/v1/namespaces/bench/configmaps?resourceVersion=${rv}`, abort.signal)) {
        if (ev.type !== 'ADDED' || !String(ev.object.metadata.name).startsWith('fan-')) continue;
        delivered++;
        lastAt = process.hrtime.bigint();
        if (++seen === events) return;
      }
    })
  );
  await new Promise((r) => setTimeout(r, 500));
  const started = process.hrtime.bigint();
  for (let i = 0; i < events; i++)
    await c0.request('POST', '/api/v1/namespaces/bench/configmaps', configMap(`fan-${i}`));
  const wrote = process.hrtime.bigint();
  await done;
  abort.abort();
  const secs = Number(lastAt - started) / 1e9;
  out(
    `watch fan-out (1 writer, ${watchers} watchers)`,
    `${(delivered / secs).toFixed(0)} events/s delivered (${delivered} in ${secs.toFixed(2)} s; writer ${(events / (Number(wrote - started) / 1e9)).toFixed(0)}/s)`
  );
  for (const c of [...pool, ...wclients]) c.close();
}

const cleanups: (() => Promise<void>)[] = [];
try {
  process.stdout.write(
    `# ${cpus().length} CPUs, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, node ${process.version}\n`
  );
  for (const backend of args.backend.split(',')) {
    const dataDir = await mkdtemp(join(tmpdir(), 'hubspoke-bench-api-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    let etcdFlags = {};
    if (backend === 'etcd') {
      const etcd = await startEtcdCluster(
        { after: (fn: () => Promise<void>) => void cleanups.push(fn) },
        { tmpfs: args.tmpfs }
      );
      etcdFlags = {
        etcdServers: etcd.endpoints,
        etcdCAFile: etcd.caFile,
        etcdCertFile: etcd.certFile,
        etcdKeyFile: etcd.keyFile,
      };
    }
    const cp = await startControlPlane(
      {
        dataDir,
        securePort: 0,
        bindAddress: '127.0.0.1',
        serviceClusterIPRange: '127.96.0.0/16',
        maxRequestsInflight: 1000,
        maxMutatingRequestsInflight: 1000,
        ...etcdFlags,
      },
      silentLogger,
      true
    );
    cleanups.push(() => cp.close());
    await bench(backend, cp);
    await cp.close();
  }
} finally {
  for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
}

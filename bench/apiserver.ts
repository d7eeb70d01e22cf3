// The API server's figures (issue 3's benchmark), through HTTPS with an admin client certificate as any client:
// creates/s, GETs/s with p50/p99 at 50 concurrent, LIST of N pods (from the watch cache) p50/p99, and watch fan-out
// (1 writer, 100 watchers: events delivered per second), beside the raw storage put rate (better-sqlite3 or etcd3
// straight to the engine, bench/storage.ts) measured in the same run, before and after the API phases.
//
//   node --import tsx bench/apiserver.ts [--backend sqlite,etcd] [--creates 2000] [--gets 5000] [--pods 10000]
//        [--concurrency 50] [--workers 1] [--watchers 100] [--events 500] [--only create,get,list,watch]
//        [--tmpfs] [--cpu-prof DIR]
//
// `hubspoke server` runs as its own process (test/framework/server-process.ts), so client and server never share
// an event loop. The load comes from worker threads of this script, each with one keep-alive HTTPS connection per
// concurrent request (HTTP/1.1, as KubeClient), so a slow client is not what is measured. Beside each phase the
// server's CPU time per request (utime + stime from /proc/PID/stat) is printed: unlike latency on a machine shared
// with other work, it hardly depends on the load. The 10,000 pods for the LIST are written to storage before the
// server starts (the registry's stored shape). SQLite runs with synchronous=FULL; etcd is a three-member TLS
// cluster on loopback with its data on disk unless --tmpfs. --cpu-prof DIR writes the server's V8 CPU profile
// there when it stops.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { KubeClient } from '../src/lib/kube-client.js';
import { EtcdStore } from '../src/storage/etcd/etcd-store.js';
import { openSqliteStore } from '../src/storage/index.js';
import type { Store } from '../src/storage/interface.js';
import { startEtcdCluster, type EtcdCluster } from '../test/framework/etcd.js';
import { startServerProcess } from '../test/framework/server-process.js';
import { cpuMs, percentile } from './lib/peers.js';
import { etcdDirectPutRate, sqliteDirectPutRate } from './storage.js';

/** One load phase for a worker: `n` requests from `concurrency` loops; `{i}` in path and body is the index. */
interface Job {
  method: string;
  path: string;
  body?: string;
  n: number;
  offset: number;
  concurrency: number;
  /** `{i}` is the index modulo this (GETs cycle over the objects created). */
  modulo?: number;
  /** Send Accept-Encoding: gzip, as kubectl (Go's transport) does. */
  gzip?: boolean;
}
interface JobResult {
  ms: number[];
  errors: string[];
  seconds: number;
}
interface Credentials {
  server: string;
  ca: string;
  cert: string;
  key: string;
}

/** The worker's side: runs each job it is sent and posts the latencies back. */
function serveJobs(creds: Credentials): void {
  const agent = new Agent({ keepAlive: true, ca: creds.ca, cert: creds.cert, key: creds.key, maxSockets: Infinity });
  const one = (job: Job, i: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const index = String(job.modulo ? i % job.modulo : i);
      const body = job.body === undefined ? undefined : Buffer.from(job.body.replaceAll('{i}', index));
      const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'hubspoke-bench' };
      if (body) headers['content-type'] = 'application/json';
      if (job.gzip) headers['accept-encoding'] = 'gzip';
      const req = request(
        new URL(job.path.replaceAll('{i}', index), creds.server),
        { method: job.method, headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => void (res.statusCode! >= 300 && chunks.push(c)));
          res.on('end', () =>
            res.statusCode! < 300
              ? resolve()
              : reject(new Error(`${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 200)}`))
          );
          res.on('error', reject);
        }
      );
      req.on('error', reject);
      req.end(body);
    });
  parentPort!.on('message', async (job: Job) => {
    const ms: number[] = [];
    const errors: string[] = [];
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: job.concurrency }, async () => {
        while (next < job.n) {
          const i = job.offset + next++;
          const t0 = process.hrtime.bigint();
          try {
            await one(job, i);
            ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
          } catch (err) {
            errors.push(String(err));
          }
        }
      })
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    parentPort!.postMessage({ ms, errors, seconds } satisfies JobResult);
  });
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      backend: { type: 'string', default: 'sqlite,etcd' },
      creates: { type: 'string', default: '2000' },
      gets: { type: 'string', default: '5000' },
      pods: { type: 'string', default: '10000' },
      lists: { type: 'string', default: '20' },
      concurrency: { type: 'string', default: '50' },
      workers: { type: 'string', default: '1' },
      watchers: { type: 'string', default: '100' },
      events: { type: 'string', default: '500' },
      only: { type: 'string', default: 'create,get,list,watch' },
      tmpfs: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
    },
  });
  const concurrency = Number(args.concurrency);
  const phases = new Set(args.only.split(','));
  const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
  process.stdout.write(`# ${cpus().length} CPUs, node ${process.version}, ${uptime()}\n`);

  const cleanups: (() => Promise<void>)[] = [];
  const hook = { after: (fn: () => Promise<void>) => void cleanups.push(fn) };
  try {
    for (const backend of args.backend.split(',')) {
      const dataDir = await mkdtemp(join(tmpdir(), 'hubspoke-bench-api-'));
      cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
      const out = (what: string, value: string) =>
        process.stdout.write(`${backend.padEnd(7)} ${what.padEnd(46)} ${value}\n`);
      let etcd: EtcdCluster | undefined;
      const flags = ['--max-requests-inflight', '1000', '--max-mutating-requests-inflight', '1000'];
      if (backend === 'etcd') {
        etcd = await startEtcdCluster(hook, { tmpfs: args.tmpfs });
        flags.push('--etcd-servers', etcd.endpoints.join(','), '--etcd-cafile', etcd.caFile);
        flags.push('--etcd-certfile', etcd.certFile, '--etcd-keyfile', etcd.keyFile);
      }
      const peer = async (): Promise<number> =>
        etcd
          ? etcdDirectPutRate(etcd, Number(args.creates), concurrency)
          : sqliteDirectPutRate(dataDir, Number(args.creates));

      const pods = phases.has('list') ? Number(args.pods) : 0;
      if (pods) await seedPods(etcd ? await openEtcd(etcd) : await openSqliteStore(dataDir), pods);

      const profileDir = args['cpu-prof'];
      if (profileDir) process.env.NODE_OPTIONS = `--import=${await writeProfiler(dataDir)}`;
      const server = await startServerProcess(hook, dataDir, flags);
      delete process.env.NODE_OPTIONS;
      /** The server's CPU profile since the last one, as DIR/<backend>-<phase>.cpuprofile. */
      const profile = async (phase: string): Promise<void> => {
        if (!profileDir) return;
        const file = join(profileDir, `${backend}-${phase}.cpuprofile`);
        await writeFile(join(dataDir, 'profile-name'), file);
        process.kill(server.pid, 'SIGUSR2');
        await server.waitForLog((l) => l.msg === `profile written: ${file}`);
      };
      const pki = join(dataDir, 'pki');
      const creds: Credentials = {
        server: server.url,
        ca: await readFile(join(pki, 'ca.crt'), 'utf8'),
        cert: await readFile(join(pki, 'admin.crt'), 'utf8'),
        key: await readFile(join(pki, 'admin.key'), 'utf8'),
      };
      const load = new Load(creds, Number(args.workers), server.pid);
      cleanups.push(() => load.close());
      const admin = await server.adminClient();
      await admin.request('POST', '/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'bench' },
      });
      // Every connection open and the server's code warm before anything is measured.
      await load.run('GET', '/api/v1/namespaces/bench', 20 * concurrency, concurrency);
      await profile('start');
      out('uptime', uptime());

      if (phases.has('create')) {
        const before = await peer();
        out(
          `raw put (${etcd ? `etcd3 put, c=${concurrency}` : 'better-sqlite3, FULL'}) before`,
          `${before.toFixed(0)}/s`
        );
        const creates = await load.run(
          'POST',
          '/api/v1/namespaces/bench/configmaps',
          Number(args.creates),
          concurrency,
          {
            body: JSON.stringify(configMap('cm-{i}')),
          }
        );
        await profile('create');
        const after = await peer();
        out(`raw put after`, `${after.toFixed(0)}/s`);
        const raw = (before + after) / 2;
        out(
          `API create configmaps (c=${concurrency})`,
          `${creates.summary} (${((100 * creates.rate) / raw).toFixed(0)}% of raw put)`
        );
      }
      if (phases.has('get')) {
        if (!phases.has('create'))
          await load.run('POST', '/api/v1/namespaces/bench/configmaps', Number(args.creates), concurrency, {
            body: JSON.stringify(configMap('cm-{i}')),
          });
        const gets = await load.run(
          'GET',
          '/api/v1/namespaces/bench/configmaps/cm-{i}',
          Number(args.gets),
          concurrency,
          {
            modulo: Number(args.creates),
          }
        );
        out(`API GET (c=${concurrency})`, gets.summary);
        await profile('get');
      }
      if (pods) {
        const l = await admin.get('/api/v1/namespaces/bench/pods');
        if (l.items.length !== pods) throw new Error(`listed ${l.items.length} pods, want ${pods}`);
        for (const [what, query, gzip] of [
          ['consistent, from cache', '', false],
          ['resourceVersion=0', '?resourceVersion=0', false],
          ['consistent, gzip as kubectl asks', '', true],
        ] as const) {
          const lists = await load.run('GET', `/api/v1/namespaces/bench/pods${query}`, Number(args.lists), 1, { gzip });
          out(`LIST ${pods} pods (${what})`, lists.summary);
        }
        await profile('list');
        const paged = await load.run('GET', '/api/v1/namespaces/bench/pods?limit=500', Number(args.lists), 1);
        out('LIST first page of 500 (kubectl get)', paged.summary);
      }
      if (phases.has('watch')) {
        await fanOut(creds, admin, Number(args.watchers), Number(args.events), out);
        await profile('watch');
      }
      out('uptime', uptime());
      await load.close();
      await server.stop();
    }
  } finally {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  }
}

const configMap = (name: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name },
  data: { payload: 'x'.repeat(512) },
});

/**
 * A module the server imports first (NODE_OPTIONS=--import: Node refuses --cpu-prof there): it profiles from the
 * start and, on each SIGUSR2, writes the profile so far to the file named in DATA/profile-name and starts anew.
 */
async function writeProfiler(dataDir: string): Promise<string> {
  const file = join(dataDir, 'profiler.mjs');
  await writeFile(
    file,
    `import { Session } from 'node:inspector';
import { readFileSync, writeFileSync } from 'node:fs';
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.start');
process.on('SIGUSR2', () => {
  session.post('Profiler.stop', (err, res) => {
    const file = readFileSync(${JSON.stringify(join(dataDir, 'profile-name'))}, 'utf8');
    writeFileSync(file, JSON.stringify(res.profile));
    session.post('Profiler.start');
    process.stderr.write(JSON.stringify({ msg: 'profile written: ' + file }) + '\\n');
  });
});
`
  );
  return file;
}

async function openEtcd(etcd: EtcdCluster): Promise<Store> {
  return EtcdStore.open({
    servers: etcd.endpoints,
    caFile: etcd.caFile,
    certFile: etcd.certFile,
    keyFile: etcd.keyFile,
  });
}

/** Pods in the shape the registry stores them, written straight to storage (a LIST benchmark, not a create one). */
async function seedPods(store: Store, count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < count) {
        const name = `p-${next++}`;
        const pod = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name,
            namespace: 'bench',
            labels: { app: 'bench' },
            uid: randomUUID(),
            creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          },
          spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }], nodeName: 'bench-node' },
          status: { phase: 'Pending' },
        };
        await store.create(`/registry/pods/bench/${name}`, JSON.stringify(pod));
      }
    })
  );
  await store.close();
}

/** A worker runs this file too; it needs tsx's loader first, which a worker does not inherit from `--import`. */
const workerBoot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;

/** The load generator: worker threads sharing each phase's requests. */
class Load {
  readonly #workers: Worker[];
  constructor(
    creds: Credentials,
    count: number,
    private readonly serverPid: number
  ) {
    this.#workers = Array.from({ length: count }, () => new Worker(workerBoot, { eval: true, workerData: creds }));
  }

  async run(
    method: string,
    path: string,
    n: number,
    concurrency: number,
    opts: { body?: string; modulo?: number; gzip?: boolean } = {}
  ): Promise<{ rate: number; summary: string }> {
    const share = Math.ceil(n / this.#workers.length);
    const serverCpu0 = await cpuMs(this.serverPid);
    const ownCpu0 = process.cpuUsage();
    const started = process.hrtime.bigint();
    const results = await Promise.all(
      this.#workers.map(
        (w, k) =>
          new Promise<JobResult>((resolve) => {
            w.once('message', resolve);
            const job: Job = {
              method,
              path,
              body: opts.body,
              modulo: opts.modulo,
              gzip: opts.gzip,
              n: Math.min(share, n - k * share),
              offset: k * share,
              concurrency: Math.max(1, Math.ceil(concurrency / this.#workers.length)),
            };
            w.postMessage(job);
          })
      )
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const serverCpu = (await cpuMs(this.serverPid)) - serverCpu0;
    const own = process.cpuUsage(ownCpu0);
    const ms = results.flatMap((r) => r.ms).sort((a, b) => a - b);
    const errors = results.flatMap((r) => r.errors);
    if (errors.length) throw new Error(`${errors.length} of ${n} requests failed, first: ${errors[0]}`);
    const rate = n / seconds;
    const summary =
      `${rate.toFixed(0)}/s p50 ${percentile(ms, 50).toFixed(1)} ms p99 ${percentile(ms, 99).toFixed(1)} ms; ` +
      `server CPU ${(serverCpu / n).toFixed(2)} ms/req, bench ${((own.user + own.system) / 1000 / n).toFixed(2)} ms/req`;
    return { rate, summary };
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

/** Every watcher on its own connection, one writer creating ConfigMaps one after another. */
async function fanOut(
  creds: Credentials,
  admin: KubeClient,
  watchers: number,
  events: number,
  out: (what: string, value: string) => void
): Promise<void> {
  const clients = Array.from(
    { length: watchers },
    () => new KubeClient({ server: creds.server, caPem: creds.ca, certPem: creds.cert, keyPem: creds.key })
  );
  const abort = new AbortController();
  const rv = (await admin.get('/api/v1/namespaces/bench/configmaps?limit=1')).metadata.resourceVersion as string;
  let delivered = 0;
  let lastAt = 0n;
  const done = Promise.all(
    clients.map(async (w) => {
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
    await admin.request('POST', '/api/v1/namespaces/bench/configmaps', configMap(`fan-${i}`));
  const wrote = process.hrtime.bigint();
  await done;
  abort.abort();
  for (const c of clients) c.close();
  const secs = Number(lastAt - started) / 1e9;
  out(
    `watch fan-out (1 writer, ${watchers} watchers)`,
    `${(delivered / secs).toFixed(0)} events/s delivered (${delivered} in ${secs.toFixed(2)} s; writer ${(events / (Number(wrote - started) / 1e9)).toFixed(0)}/s)`
  );
}

// Last, once every class and constant above exists: this file is both the benchmark and its load workers.
if (!isMainThread) serveJobs(workerData as Credentials);
else await main();

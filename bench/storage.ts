// Raw storage put rate beside the same writes through each Store backend, in one run (issue 3's benchmark baseline):
// SQLite direct (better-sqlite3, WAL, synchronous=FULL as SqliteStore) vs SqliteStore.create, and etcd direct
// (etcd3 put on a three-member TLS cluster on loopback) vs EtcdStore.create (a revision-comparing transaction).
//
//   node --import tsx bench/storage.ts [--count 2000] [--concurrency 1,16,50] [--value-bytes 1024] [--tmpfs]
//
// SQLite writes are synchronous, so its rows are sequential whatever the concurrency. etcd data is on disk (fsync on
// every member) unless --tmpfs puts it in /dev/shm.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { Etcd3 } from 'etcd3';
import { startEtcdCluster, type EtcdCluster } from '../test/framework/etcd.js';
import { EtcdStore } from '../src/storage/etcd/etcd-store.js';
import { SqliteStore } from '../src/storage/sqlite/sqlite-store.js';

/** Puts per second straight through better-sqlite3: one INSERT per transaction, SqliteStore's pragmas. */
export async function sqliteDirectPutRate(dir: string, count: number, value = defaultValue(1024)): Promise<number> {
  const db = new Database(join(dir, `raw-${process.hrtime.bigint()}.db`));
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE kv (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, value TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO kv (name, value) VALUES (?, ?)');
    const put = db.transaction((name: string) => insert.run(name, value));
    return await measure(count, 1, (i) => put(`/registry/pods/bench/p${i}`));
  } finally {
    db.close();
  }
}

/** Puts per second straight through etcd3 (no transaction) from `concurrency` loops. */
export async function etcdDirectPutRate(
  cluster: EtcdCluster,
  count: number,
  concurrency: number,
  value = defaultValue(1024)
): Promise<number> {
  const raw = new Etcd3({
    hosts: cluster.endpoints,
    credentials: {
      rootCertificate: await readFile(cluster.caFile),
      certChain: await readFile(cluster.certFile),
      privateKey: await readFile(cluster.keyFile),
    },
  });
  const run = process.hrtime.bigint();
  try {
    return await measure(count, concurrency, (i) => raw.put(`/raw/${run}/p${i}`).value(value));
  } finally {
    raw.close();
  }
}

function defaultValue(bytes: number): string {
  return JSON.stringify({ kind: 'Pod', data: 'x'.repeat(Math.max(0, bytes - 30)) });
}

/** Warms up, then runs `count` puts through `put` from `concurrency` loops; returns puts per second. */
async function measure(count: number, concurrency: number, put: (i: number) => unknown): Promise<number> {
  const warmup = Math.min(100, count);
  for (let i = 0; i < warmup; i++) await put(count + i);
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await put(next++);
    })
  );
  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

interface Row {
  backend: string;
  path: string;
  concurrency: number;
  rate: number;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      count: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '1,16,50' },
      'value-bytes': { type: 'string', default: '1024' },
      tmpfs: { type: 'boolean', default: false },
    },
  });
  const count = Number(args.count);
  const concurrencies = args.concurrency.split(',').map(Number);
  const value = defaultValue(Number(args['value-bytes']));
  const rows: Row[] = [];

  function record(backend: string, path: string, concurrency: number, rate: number): void {
    rows.push({ backend, path, concurrency, rate });
    process.stderr.write(`${backend} ${path} c=${concurrency}: ${rate.toFixed(0)}/s\n`);
  }

  const cleanups: (() => Promise<void>)[] = [];
  try {
    const dir = await mkdtemp(join(tmpdir(), 'hubspoke-bench-storage-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));

    record('sqlite', 'direct (better-sqlite3)', 1, await sqliteDirectPutRate(dir, count, value));
    const sqlite = SqliteStore.open(join(dir, 'store.db'));
    cleanups.unshift(() => sqlite.close());
    for (const c of concurrencies) {
      record(
        'sqlite',
        'SqliteStore.create',
        c,
        await measure(count, c, (i) => sqlite.create(`/registry/pods/c${c}/p${i}`, value))
      );
    }

    const cluster = await startEtcdCluster(
      { after: (fn: () => Promise<void>) => void cleanups.unshift(fn) },
      { tmpfs: args.tmpfs }
    );
    const store = await EtcdStore.open({
      servers: cluster.endpoints,
      caFile: cluster.caFile,
      certFile: cluster.certFile,
      keyFile: cluster.keyFile,
    });
    cleanups.unshift(() => store.close());
    for (const c of concurrencies) {
      record('etcd', 'direct (etcd3 put)', c, await etcdDirectPutRate(cluster, count, c, value));
      record(
        'etcd',
        'EtcdStore.create',
        c,
        await measure(count, c, (i) => store.create(`/registry/pods/c${c}/p${i}`, value))
      );
    }
  } finally {
    for (const fn of cleanups) await fn();
  }

  const raw = (backend: string, concurrency: number) =>
    rows.find(
      (r) =>
        r.backend === backend && r.path.startsWith('direct') && (backend === 'sqlite' || r.concurrency === concurrency)
    );
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  console.log(
    `storage put rate: ${count} puts of ${value.length} bytes per row${args.tmpfs ? ', etcd on tmpfs' : ''}; ` +
      `${cpus().length} CPUs, load average ${load}`
  );
  console.log('| backend | path | concurrency | puts/s | vs direct |');
  console.log('| --- | --- | --: | --: | --: |');
  for (const r of rows) {
    const base = raw(r.backend, r.concurrency);
    const ratio = base && base !== r ? `${((r.rate / base.rate) * 100).toFixed(0)} %` : '';
    console.log(`| ${r.backend} | ${r.path} | ${r.concurrency} | ${r.rate.toFixed(0)} | ${ratio} |`);
  }
}

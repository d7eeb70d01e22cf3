// What the API server needs from storage: the Store seam, its errors, compaction, and the choice of backend:
// etcd when --etcd-servers is given (as kube-apiserver), else the embedded SQLite database in the data dir.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Store } from './interface.js';
import { EtcdStore } from './etcd/etcd-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { SqliteStoreOptions } from './sqlite/sqlite-store.js';

export * from './interface.js';
export { startCompaction } from './compactor.js';
export type { CompactionOptions } from './compactor.js';
export { EtcdStore } from './etcd/etcd-store.js';
export type { EtcdStoreOptions } from './etcd/etcd-store.js';
export { SqliteStore } from './sqlite/sqlite-store.js';
export type { SqliteStoreOptions } from './sqlite/sqlite-store.js';

/** Where a server keeps its objects; the field names are the API server's options (kube-apiserver's flags). */
export interface StoreOptions {
  /** Holds the SQLite database when no etcd servers are given. */
  dataDir: string;
  /** --etcd-servers: etcd client URLs; empty or absent selects SQLite. */
  etcdServers?: readonly string[];
  /** --etcd-cafile */
  etcdCAFile?: string;
  /** --etcd-certfile */
  etcdCertFile?: string;
  /** --etcd-keyfile */
  etcdKeyFile?: string;
  /** --etcd-prefix @default '/registry' */
  etcdPrefix?: string;
}

/** Every problem with the storage flags at once, each naming its flag. */
export function validateStoreOptions(o: StoreOptions): string[] {
  const errs: string[] = [];
  const servers = o.etcdServers ?? [];
  for (const server of servers) {
    let url: URL | undefined;
    try {
      url = new URL(server);
    } catch {
      // reported below
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || !url.port || url.pathname !== '/') {
      errs.push(`--etcd-servers: "${server}" is not a URL of the form https://host:port`);
    }
  }
  if (servers.length > 0 && new Set(servers.map((s) => s.slice(0, s.indexOf(':')))).size > 1) {
    errs.push('--etcd-servers: all servers must use the same scheme (https or http)');
  }
  const files: [string, string | undefined][] = [
    ['etcd-cafile', o.etcdCAFile],
    ['etcd-certfile', o.etcdCertFile],
    ['etcd-keyfile', o.etcdKeyFile],
  ];
  for (const [flag, file] of files) {
    if (file === undefined) continue;
    if (servers.length === 0) errs.push(`--${flag}: only meaningful with --etcd-servers`);
    else if (!existsSync(file)) errs.push(`--${flag}: ${file}: no such file`);
  }
  if (!!o.etcdCertFile !== !!o.etcdKeyFile) errs.push('--etcd-certfile and --etcd-keyfile must be given together');
  const prefix = o.etcdPrefix;
  if (prefix !== undefined && (!prefix.startsWith('/') || prefix.endsWith('/'))) {
    errs.push(`--etcd-prefix: "${prefix}" must start with "/" and not end with one`);
  }
  return errs;
}

/** Opens etcd when `etcdServers` is given, else the SQLite database under `dataDir` (see openSqliteStore). */
export async function openStore(o: StoreOptions, sqlite?: SqliteStoreOptions): Promise<Store> {
  if (o.etcdServers?.length) {
    return EtcdStore.open({
      servers: [...o.etcdServers],
      caFile: o.etcdCAFile,
      certFile: o.etcdCertFile,
      keyFile: o.etcdKeyFile,
      prefix: o.etcdPrefix,
    });
  }
  return openSqliteStore(o.dataDir, sqlite);
}

/** The SQLite file under a server's data directory (k3s keeps its kine database at server/db/state.db). */
export function storePath(dataDir: string): string {
  return path.join(dataDir, 'db', 'state.db');
}

/**
 * Opens the embedded store at `<dataDir>/db/state.db`, creating the directories owner-only (0700): the database
 * holds every Secret in the cluster.
 */
export async function openSqliteStore(dataDir: string, opts?: SqliteStoreOptions): Promise<Store> {
  const file = storePath(dataDir);
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // mkdir's mode does not apply to a directory that already exists, nor escape the umask.
  await fs.chmod(path.dirname(file), 0o700);
  return SqliteStore.open(file, opts);
}

/** How long the health check waits for storage (upstream's --etcd-healthcheck-timeout). */
const healthCheckTimeoutMs = 2_000;

/**
 * The /healthz and /readyz storage check: one read that must answer within the timeout, so a cluster that hangs
 * makes the server unready quickly instead of holding every probe.
 */
export async function checkStore(store: Store, timeoutMs = healthCheckTimeoutMs): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`storage did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([store.currentRevision(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

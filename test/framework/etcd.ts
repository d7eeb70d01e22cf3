// startEtcdCluster() for tests: a real etcd cluster (Debian's etcd-server, /usr/bin/etcd) on loopback ports, its
// data in a temp dir, clients on TLS with client-certificate auth (certificates from src/pki), peers on plain HTTP
// over loopback. Every member is stopped by PID and the directory removed when the test ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestContext } from 'node:test';
import { Etcd3 } from 'etcd3';
import { createCA, issueCertificate, writeKeyFile } from '../../src/pki/index.js';

export const etcdBinary = process.env.HUBSPOKE_ETCD ?? '/usr/bin/etcd';

export interface EtcdClusterOptions {
  /** @default 3 */
  members?: number;
  /** How long start and restart wait for the cluster to serve. @default 20000 */
  readyTimeoutMs?: number;
  /**
   * Keep the data in /dev/shm (tmpfs) when it exists: every etcd write waits for an fsync on each member, which on
   * a shared disk limits a test cluster to about a hundred writes a second. Benchmarks pass false.
   * @default true
   */
  tmpfs?: boolean;
}

export interface EtcdMember {
  name: string;
  /** https://127.0.0.1:PORT */
  clientURL: string;
  peerURL: string;
  /** The running process's PID; undefined while killed. */
  pid: number | undefined;
}

export interface EtcdCluster {
  /** Client URLs of every member, for --etcd-servers. */
  endpoints: string[];
  /** The CA that signed the server and client certificates (--etcd-cafile). */
  caFile: string;
  /** A client certificate and key etcd accepts (--etcd-certfile, --etcd-keyfile). */
  certFile: string;
  keyFile: string;
  members: EtcdMember[];
  /** The temp dir holding the certificates, each member's data dir and its log (`<name>.log`). */
  dir: string;
  /** kill -9 of one member; resolves once the process has exited. */
  kill(member: number): Promise<void>;
  /**
   * Starts killed members again on their data dirs and ports; resolves once each serves (give every member that
   * is needed for a quorum in one call).
   */
  restart(...members: number[]): Promise<void>;
  /** The index of the member that is the Raft leader now. */
  leader(): Promise<number>;
  /** The API server options (--etcd-servers, --etcd-cafile, ...) that store in this cluster under `prefix`. */
  apiServerOptions(prefix?: string): {
    etcdServers: string[];
    etcdCAFile: string;
    etcdCertFile: string;
    etcdKeyFile: string;
    etcdPrefix?: string;
  };
  /** The same as `hubspoke server` flags; `endpoints` where the members are reached otherwise (a relay). */
  apiServerFlags(endpoints?: string[]): string[];
  /** Resolves once the cluster has a leader and serves a linearizable read. */
  ready(timeoutMs?: number): Promise<void>;
  /** Stops every member (done in t.after as well). */
  stop(): Promise<void>;
}

type Hook = { after(fn: () => Promise<void>): void } | TestContext;

/** A port that was free a moment ago: bind port 0 on loopback, read it, release it. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function startEtcdCluster(t: Hook, opts: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  const count = opts.members ?? 3;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 20_000;
  const root = (opts.tmpfs ?? true) && existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = await mkdtemp(join(root, 'hubspoke-etcd-'));
  const procs: (ChildProcess | undefined)[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(procs.map((_, i) => killMember(i)));
  };
  t.after(async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  });

  const ca = await createCA({ commonName: 'etcd-ca' });
  const server = await issueCertificate({
    ca,
    commonName: 'etcd-server',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    usages: ['server', 'client'],
    validityMs: 24 * 3600 * 1000,
  });
  const client = await issueCertificate({
    ca,
    commonName: 'kube-apiserver-etcd-client',
    usages: ['client'],
    validityMs: 24 * 3600 * 1000,
  });
  const caFile = join(dir, 'ca.crt');
  const certFile = join(dir, 'client.crt');
  const keyFile = join(dir, 'client.key');
  await writeFile(caFile, ca.cert);
  await writeFile(join(dir, 'server.crt'), server.cert);
  await writeKeyFile(join(dir, 'server.key'), server.key);
  await writeFile(certFile, client.cert);
  await writeKeyFile(keyFile, client.key);

  const members: EtcdMember[] = [];
  for (let i = 0; i < count; i++) {
    members.push({
      name: `m${i}`,
      clientURL: `https://127.0.0.1:${await freePort()}`,
      peerURL: `http://127.0.0.1:${await freePort()}`,
      pid: undefined,
    });
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peerURL}`).join(',');

  const startMember = (i: number): void => {
    const m = members[i]!;
    const args = [
      `--name=${m.name}`,
      `--data-dir=${join(dir, m.name)}`,
      `--listen-client-urls=${m.clientURL}`,
      `--advertise-client-urls=${m.clientURL}`,
      `--listen-peer-urls=${m.peerURL}`,
      `--initial-advertise-peer-urls=${m.peerURL}`,
      `--initial-cluster=${initialCluster}`,
      '--initial-cluster-state=new',
      `--initial-cluster-token=${dir}`,
      `--cert-file=${join(dir, 'server.crt')}`,
      `--key-file=${join(dir, 'server.key')}`,
      `--trusted-ca-file=${caFile}`,
      '--client-cert-auth',
      // Shorter than the defaults (100/1000 ms) so elections after a kill take a fraction of a second, yet long
      // enough that a busy 2-core machine does not cause spurious ones.
      '--heartbeat-interval=50',
      '--election-timeout=500',
      '--logger=zap',
      '--log-outputs=stderr',
      '--log-level=warn',
    ];
    const log = createWriteStream(join(dir, `${m.name}.log`), { flags: 'a' });
    const proc = spawn(etcdBinary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr.pipe(log);
    proc.on('error', (err) => log.write(`spawn failed: ${err.message}\n`));
    procs[i] = proc;
    m.pid = proc.pid;
  };

  async function killMember(i: number): Promise<void> {
    const proc = procs[i];
    if (!proc) return;
    procs[i] = undefined;
    members[i]!.pid = undefined;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
  }

  const newClient = (endpoints: string[]): Etcd3 =>
    new Etcd3({
      hosts: endpoints,
      credentials: {
        rootCertificate: Buffer.from(ca.cert),
        privateKey: Buffer.from(client.key),
        certChain: Buffer.from(client.cert),
      },
      defaultCallOptions: () => ({ deadline: Date.now() + 1000 }),
    });
  /** Polls until a linearizable read through `endpoints` succeeds (it needs a leader and a quorum). */
  const waitServing = async (endpoints: string[], timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    while (Date.now() < deadline) {
      for (const [i, proc] of procs.entries()) {
        if (proc && proc.exitCode !== null) throw new Error(`etcd ${members[i]!.name} exited: ${await logTail(i)}`);
      }
      const probe = newClient(endpoints);
      try {
        await probe.get('health');
        return;
      } catch (err) {
        lastError = err;
      } finally {
        probe.close();
      }
      await sleep(50);
    }
    throw new Error(`etcd at ${endpoints.join(',')} not serving after ${timeoutMs} ms: ${String(lastError)}`);
  };
  const logTail = async (i: number): Promise<string> => {
    const text = await readFile(join(dir, `${members[i]!.name}.log`), 'utf8').catch(() => '');
    return text.split('\n').slice(-5).join('\n');
  };

  for (let i = 0; i < count; i++) startMember(i);
  const endpoints = members.map((m) => m.clientURL);
  await waitServing(endpoints, readyTimeoutMs);

  return {
    endpoints,
    caFile,
    certFile,
    keyFile,
    members,
    dir,
    kill: killMember,
    async restart(...indexes: number[]) {
      for (const i of indexes) {
        if (procs[i]) throw new Error(`etcd ${members[i]!.name} is running`);
        startMember(i);
      }
      for (const i of indexes) await waitServing([members[i]!.clientURL], readyTimeoutMs);
    },
    async leader() {
      for (const [i, m] of members.entries()) {
        if (!procs[i]) continue;
        const client = newClient([m.clientURL]);
        try {
          const status = await client.maintenance.status();
          if (status.leader === status.header.member_id) return i;
        } catch {
          // a member that does not answer is not the leader
        } finally {
          client.close();
        }
      }
      throw new Error('no etcd member is the leader');
    },
    ready: (timeoutMs = readyTimeoutMs) => waitServing(endpoints, timeoutMs),
    apiServerOptions: (prefix?: string) => ({
      etcdServers: endpoints,
      etcdCAFile: caFile,
      etcdCertFile: certFile,
      etcdKeyFile: keyFile,
      ...(prefix !== undefined && { etcdPrefix: prefix }),
    }),
    apiServerFlags: (via = endpoints) => [
      '--etcd-servers',
      via.join(','),
      '--etcd-cafile',
      caFile,
      '--etcd-certfile',
      certFile,
      '--etcd-keyfile',
      keyFile,
    ],
    stop,
  };
}

// Konnectivity benchmark (issue 7). Part 1, paths to one sink/echo port (bench/lib/peers.ts) in one run:
// (a) direct TCP, (b) OpenSSH `ssh -L` through a real sshd on loopback, (c) the API server's SSH egress dialer
// through the same sshd (issue 9), (d) the konnectivity GRPC frontend (a `Proxy` stream per dial on the server's
// UDS, as kube-apiserver dials), (e) the HTTP-CONNECT frontend on a UDS.
// Server and agent are `hubspoke konnectivity-server` / `konnectivity-agent` processes (mTLS agent auth).
// Per path: MB/s of one stream, p50/p99 of 1-byte round trips, p50/p99 dial latency (dial + first echoed byte).
// Part 2, memory: a konnectivity server in its own process holding N idle agents (simulated in this process, each
// its own TLS connection and its own bearer token, checked per agent); RSS before and after, per agent; beside it
// the peers, Node's bare TLS and HTTP/2 servers holding as many idle connections (what any Node TLS or gRPC
// server pays).
//
//   node --import tsx bench/konnectivity.ts [--bytes 1073741824] [--round-trips 2000] [--dials 200] [--agents 1000]
//        [--only direct,ssh,ssh-egress,grpc,http-connect,memory]
//
// BENCH_BYTES in the environment sets --bytes' default.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTLSServer } from 'node:tls';
import { connect as http2Connect, createSecureServer as createHttp2Server } from 'node:http2';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { newSSHDialer } from '../src/apiserver/egress/ssh/index.js';
import { ProxyAgent } from '../src/konnectivity/agent/agent.js';
import { allowList } from '../src/konnectivity/agent/allow-list.js';
import { ProxyServer } from '../src/konnectivity/server/server.js';
import { KonnectivityDialer } from '../src/apiserver/egress/konnectivity.js';
import { httpConnect, testPKI, type TestPKI } from '../src/konnectivity/testing.js';
import { silentLogger } from '../src/lib/log.js';
import {
  Cleanup,
  freeLoopbackPort,
  killChild,
  measureRoundTrips,
  measureRuns,
  measureThroughput,
  printTable,
  ratio,
  startOpenSSHPeer,
  startSinkEcho,
  startSshTunnel,
  tcpConnect,
  waitForOutput,
  type Connect,
  type OpenSSHPeer,
  type Row,
} from './lib/peers.js';

const mainScript = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const thisScript = fileURLToPath(import.meta.url);

/** The API server's own GRPC egress dialer: a `Proxy` stream per dial, all on one HTTP/2 connection. */
function grpcConnect(cleanup: Cleanup, uds: string, address: string): Connect {
  const dialer = new KonnectivityDialer({ udsName: uds });
  cleanup.after(async () => dialer.close());
  return () => dialer.dial('tcp', address);
}

/** CONNECT on the server's UDS; the socket after the 200. */
function httpConnectConnect(uds: string, address: string): Connect {
  return async () => {
    const s = netConnect(uds);
    s.setNoDelay(true);
    const rsp = await httpConnect(s, address);
    if (rsp.status !== 200 || rsp.rest.length) throw new Error(`CONNECT: ${rsp.head}`);
    s.removeAllListeners('close');
    s.removeAllListeners('error');
    return s;
  };
}

/** A konnectivity server and agent process pair in `mode`, the agent allowed to dial `target` only. */
async function startKonnectivity(cleanup: Cleanup, pki: TestPKI, dir: string, mode: string, target: string) {
  const file = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const agentCert = await pki.client(`agent-${mode}`);
  const agentPort = await freeLoopbackPort();
  const uds = join(dir, `${mode}.socket`);
  const run = (args: string[]) => {
    const child = spawn(process.execPath, ['--import', 'tsx', mainScript, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, HUBSPOKE_LOG_FORMAT: 'json' },
    });
    cleanup.after(() => killChild(child));
    return child;
  };
  const server = run([
    'konnectivity-server',
    `--mode=${mode}`,
    `--uds-name=${uds}`,
    '--server-port=0',
    `--agent-port=${agentPort}`,
    '--agent-bind-address=127.0.0.1',
    `--cluster-cert=${file('server.crt', pki.serverTLS.cert)}`,
    `--cluster-key=${file('server.key', pki.serverTLS.key)}`,
    `--cluster-ca-cert=${file('ca.crt', pki.ca.cert)}`,
    `--health-port=${await freeLoopbackPort()}`,
    '--health-bind-address=127.0.0.1',
  ]);
  await waitForOutput(server, /konnectivity server listening/);
  const agent = run([
    'konnectivity-agent',
    `--proxy-server-port=${agentPort}`,
    `--ca-cert=${join(dir, 'ca.crt')}`,
    `--agent-cert=${file(`agent-${mode}.crt`, agentCert.cert)}`,
    `--agent-key=${file(`agent-${mode}.key`, agentCert.key)}`,
    `--allowed-destination=${target}`,
    `--health-server-port=${await freeLoopbackPort()}`,
    '--health-server-host=127.0.0.1',
  ]);
  await waitForOutput(agent, /connected to server/);
  server.stderr.resume();
  agent.stderr.resume();
  return { uds, pids: [server.pid!, agent.pid!] };
}

const rssKiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

/** What a memory run holds idle connections to: the konnectivity server, or a peer (Node's bare TLS, HTTP/2). */
type MemoryServerKind = 'konnectivity' | 'tls' | 'http2';

const memoryServerLabels: Record<MemoryServerKind, string> = {
  konnectivity: 'konnectivity server',
  tls: 'Node TLS server (peer)',
  http2: 'Node HTTP/2 server, a stream each (peer)',
};

/**
 * The child side of the memory run. `konnectivity`: a server whose agents each bring their own token (an HMAC of
 * their ID). `tls`: Node's own TLS server with the same certificate, reading and dropping what it is sent — the
 * floor under any TLS server in Node (OpenSSL's per-connection state, the socket's buffers). `http2`: Node's
 * HTTP/2 server over the same TLS, each client holding one open stream as an agent holds `Connect` — the floor
 * under any gRPC server in Node, before grpc-js's own objects.
 */
async function memoryServer(kind: MemoryServerKind): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const pki = JSON.parse(readFileSync(0, 'utf8')) as { cert: string; key: string };
  let port: number;
  let count: () => number;
  if (kind === 'http2') {
    const server = createHttp2Server(pki);
    let streams = 0;
    server.on('stream', (st) => {
      streams++;
      st.respond({ ':status': 200, 'content-type': 'application/grpc' });
      st.resume();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    count = () => streams;
  } else if (kind === 'tls') {
    let open = 0;
    const server = createTLSServer(pki, (s) => {
      open++;
      s.once('close', () => open--);
      s.resume();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    count = () => open;
  } else {
    const seen = new Set<string>();
    const server = new ProxyServer({
      serverID: 'memory',
      authenticateAgent: async (token) => {
        const [id, mac] = token.split('.');
        if (createHmac('sha256', 'bench').update(id!).digest('hex') !== mac || seen.has(id!))
          throw new Error('bad token');
        seen.add(id!);
      },
    });
    port = await server.listenAgents('127.0.0.1:0', pki);
    count = () => server.readyBackends;
  }
  setInterval(() => {
    gc();
    process.stdout.write(`agents ${count()}\n`);
  }, 1000);
  process.stdout.write(`listening ${port}\n`);
}

/** The client side for `tls`: a connection that sends what an agent's first request would (~1 KiB) and idles. */
async function idleTLSConnection(port: number, ca: string, cleanup: Cleanup): Promise<void> {
  const s = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'konnectivity-server' });
  cleanup.after(async () => void s.destroy());
  await once(s, 'secureConnect');
  s.write(Buffer.alloc(1024, 'x'));
}

/** The client side for `http2`: one open stream with an agent's headers (its ~1 KiB token), then idle. */
async function idleHttp2Stream(port: number, ca: string, cleanup: Cleanup): Promise<void> {
  const session = http2Connect(`https://127.0.0.1:${port}`, { ca, servername: 'konnectivity-server' });
  cleanup.after(async () => void session.destroy());
  const st = session.request(
    { ':method': 'POST', ':path': '/agent.AgentService/Connect', authorization: `Bearer ${'x'.repeat(900)}` },
    { endStream: false }
  );
  st.write(Buffer.alloc(64));
  await once(st, 'response');
}

async function memoryRun(cleanup: Cleanup, pki: TestPKI, agents: number, kind: MemoryServerKind): Promise<Row> {
  const child = spawn(process.execPath, ['--import', 'tsx', thisScript, '--memory-server', kind], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  cleanup.after(() => killChild(child));
  child.stdin.end(JSON.stringify(pki.serverTLS));
  const port = Number((await waitForOutput(child, /listening (\d+)/))[1]);
  let count = 0;
  child.stdout.on('data', (d: Buffer) => {
    const m = /agents (\d+)\n(?![\s\S]*agents)/.exec(d.toString());
    if (m) count = Number(m[1]);
  });
  await new Promise((r) => setTimeout(r, 3000));
  const before = rssKiB(child.pid!);
  const list: ProxyAgent[] = [];
  cleanup.after(async () => list.forEach((a) => a.close()));
  for (let i = 0; i < agents; i += 50) {
    const batch = Array.from({ length: Math.min(50, agents - i) }, (_, k) => {
      const id = `node-${i + k}`;
      if (kind === 'tls') return idleTLSConnection(port, pki.ca.cert, cleanup);
      if (kind === 'http2') return idleHttp2Stream(port, pki.ca.cert, cleanup);
      const a = new ProxyAgent({
        serverAddress: `127.0.0.1:${port}`,
        caCert: pki.ca.cert,
        serverName: 'konnectivity-server',
        agentID: id,
        agentIdentifiers: `host=${id}`,
        token: () => `${id}.${createHmac('sha256', 'bench').update(id).digest('hex')}`,
        allow: allowList([]),
        connectTimeoutMs: 60_000,
      });
      list.push(a);
      return a.connect();
    });
    await Promise.all(batch);
  }
  const deadline = Date.now() + 60_000;
  while (count < agents && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
  await new Promise((r) => setTimeout(r, 5000)); // idle, a few gc rounds
  const after = rssKiB(child.pid!);
  return {
    server: memoryServerLabels[kind],
    agents: String(count),
    'server RSS before (MiB)': before / 1024,
    'server RSS with agents (MiB)': after / 1024,
    'KiB per idle agent': (after - before) / count,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      bytes: { type: 'string', default: process.env.BENCH_BYTES ?? String(1 << 30) },
      'round-trips': { type: 'string', default: '2000' },
      dials: { type: 'string', default: '200' },
      agents: { type: 'string', default: '1000' },
      only: { type: 'string' },
      'memory-server': { type: 'string' },
    },
  });
  if (values['memory-server']) return memoryServer(values['memory-server'] as MemoryServerKind);
  const only = values.only?.split(',');
  const want = (id: string): boolean => !only || only.includes(id);
  const bytes = Number(values.bytes);
  const cleanup = new Cleanup();
  const dir = mkdtempSync(join(tmpdir(), 'hubspoke-bench-konnectivity-'));
  cleanup.after(async () => rmSync(dir, { recursive: true, force: true }));
  try {
    const pki = await testPKI();
    const sink = await startSinkEcho();
    cleanup.after(() => sink.close());
    const target = `127.0.0.1:${sink.port}`;
    let peer: Promise<OpenSSHPeer> | undefined;
    const sshPeer = (): Promise<OpenSSHPeer> => (peer ??= startOpenSSHPeer(cleanup));
    const paths: { id: string; label: string; connect: () => Promise<Connect> }[] = [
      { id: 'direct', label: 'direct TCP', connect: async () => tcpConnect(sink.port) },
      {
        id: 'ssh',
        label: 'OpenSSH ssh -L',
        connect: async () => (await startSshTunnel(cleanup, await sshPeer(), { port: sink.port })).connect,
      },
      {
        // Issue 9: the API server's SSH egress dialer, a direct-tcpip channel per dial on its one SSH connection
        // to the node's sshd (the same sshd as ssh -L's; host key pinned by a known_hosts file).
        id: 'ssh-egress',
        label: 'SSH egress (ssh2 direct-tcpip)',
        connect: async () => {
          const p = await sshPeer();
          const dialer = await newSSHDialer(
            { user: 'root', keyFile: p.identityFile, port: p.sshd.port, knownHostsFile: p.knownHostsFile },
            { preferredAddressTypes: ['InternalIP'], connectTimeoutMs: 10_000, log: silentLogger }
          );
          cleanup.after(async () => dialer.close());
          dialer.upsertNode({
            metadata: { name: 'bench-node' },
            status: { addresses: [{ type: 'InternalIP', address: p.sshd.address }] },
          });
          return () => dialer.dial('tcp', `${p.sshd.address}:${sink.port}`);
        },
      },
      {
        id: 'grpc',
        label: 'konnectivity GRPC (UDS)',
        connect: async () =>
          grpcConnect(cleanup, (await startKonnectivity(cleanup, pki, dir, 'grpc', target)).uds, target),
      },
      {
        id: 'http-connect',
        label: 'konnectivity HTTP-CONNECT (UDS)',
        connect: async () =>
          httpConnectConnect((await startKonnectivity(cleanup, pki, dir, 'http-connect', target)).uds, target),
      },
    ];
    const rows: Row[] = [];
    for (const p of paths.filter((p) => want(p.id))) {
      const c = await p.connect();
      const tp = await measureThroughput(c, bytes);
      const rt = await measureRoundTrips(c, Number(values['round-trips']));
      const dial = await measureRuns(Number(values.dials), async () => {
        const s = await c();
        s.write('E*');
        await new Promise((r) => s.once('data', r));
        s.destroy();
      });
      rows.push({
        path: p.label,
        'MB/s': tp.mbPerSec,
        'RTT p50 ms': rt.p50Ms,
        'RTT p99 ms': rt.p99Ms,
        'dial p50 ms': dial.p50Ms,
        'dial p99 ms': dial.p99Ms,
      });
    }
    if (rows.length) {
      console.log(`\n${bytes} bytes per stream; ${values['round-trips']} round trips; ${values.dials} dials\n`);
      printTable(rows, 2);
      const by = (label: string) => rows.find((r) => r.path === label);
      const ssh = by('OpenSSH ssh -L');
      const direct = by('direct TCP');
      for (const r of rows.filter((r) => /^(konnectivity|SSH egress)/.test(String(r.path)))) {
        if (ssh) console.log(`${r.path}: ${ratio(r['MB/s'] as number, ssh['MB/s'] as number)} OpenSSH throughput`);
        if (direct)
          console.log(
            `${r.path}: +${((r['RTT p50 ms'] as number) - (direct['RTT p50 ms'] as number)).toFixed(3)} ms p50 round trip over direct`
          );
      }
    }
    if (want('memory')) {
      console.log('');
      const agents = Number(values.agents);
      printTable(
        [
          await memoryRun(cleanup, pki, agents, 'konnectivity'),
          await memoryRun(cleanup, pki, agents, 'http2'),
          await memoryRun(cleanup, pki, agents, 'tls'),
        ],
        1
      );
    }
  } finally {
    await cleanup.run();
  }
}

await main();

// Reusable pieces for the tunnel benchmarks (issues 6, 7 and 9): a sink/echo server to stand at the far end of a
// path, the two measurements every path gets (single-stream throughput, 1-byte round trips), the real OpenSSH peer
// (sshd on loopback and an `ssh -L` tunnel through it), `kubectl port-forward`, and a table printer. A path is a
// `Connect`: anything that yields a duplex stream ending at the sink/echo server, so a path that is not a local
// TCP port (an HTTP-CONNECT tunnel, a konnectivity GRPC stream) fits as well as one that is.
//
// The sink/echo protocol: the client's first byte picks the mode.
//   'S' + 8-byte big-endian length L: the server reads exactly L bytes and answers with the 8-byte count it read
//        (a length prefix, not a half-close, because not every tunnel carries a FIN on its own).
//   'E': the server echoes every byte back.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { sshKeyPair, startSshd, type TestSshd } from '../../test/framework/sshd.js';

/** Dials the path under test; the stream ends at a sink/echo server. */
export type Connect = () => Promise<Duplex>;

/**
 * What the test framework's start-up helpers take as `t` (they register their clean-ups with it); run() calls them
 * last-registered first, as node:test does.
 */
export class Cleanup {
  private fns: (() => Promise<void>)[] = [];
  after(fn: () => Promise<void>): void {
    this.fns.push(fn);
  }
  async run(): Promise<void> {
    for (const fn of this.fns.splice(0).reverse())
      await fn().catch((e: unknown) => console.error('clean-up failed:', e));
  }
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** utime + stime of a process so far, in ms (USER_HZ is 100 on Linux). */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** Handles one sink/echo connection (see the protocol above). */
function serveSinkEcho(sock: Socket): void {
  sock.setNoDelay(true);
  sock.on('error', () => sock.destroy());
  let head = Buffer.alloc(0);
  let mode: 'S' | 'E' | undefined;
  let want = 0n;
  let got = 0n;
  const onData = (chunk: Buffer): void => {
    if (mode === 'E') {
      sock.write(chunk);
      return;
    }
    if (mode === 'S') {
      const before = got;
      got += BigInt(chunk.length);
      if (before < want && got >= want) {
        const count = Buffer.alloc(8);
        count.writeBigUInt64BE(got);
        sock.write(count);
      }
      return;
    }
    head = Buffer.concat([head, chunk]);
    if (head[0] === 0x45 /* E */) {
      mode = 'E';
      if (head.length > 1) sock.write(head.subarray(1));
    } else if (head[0] === 0x53 /* S */ && head.length >= 9) {
      mode = 'S';
      want = head.readBigUInt64BE(1);
      const rest = head.subarray(9);
      if (want === 0n) sock.write(Buffer.alloc(8));
      else if (rest.length) onData(rest);
    } else if (head.length && head[0] !== 0x53) {
      sock.destroy();
    }
  };
  sock.on('data', onData);
}

export interface SinkEcho {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** A sink/echo server on `host` (default 127.0.0.1), port `port` (default 0: a free one). */
export async function startSinkEcho(opts: { host?: string; port?: number } = {}): Promise<SinkEcho> {
  const host = opts.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    serveSinkEcho(s);
  });
  server.listen(opts.port ?? 0, host);
  await once(server, 'listening');
  return {
    host,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A Connect to a TCP port on loopback (direct, or the local end of a tunnel). */
export const tcpConnect =
  (port: number, host = '127.0.0.1'): Connect =>
  () =>
    new Promise((resolve, reject) => {
      const s = connect({ host, port, noDelay: true }, () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });

/** Reads exactly `n` bytes from `s` (or rejects when it ends first). */
function readExactly(s: Duplex, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const done = (err?: Error, buf?: Buffer): void => {
      s.off('data', onData);
      s.off('end', onEnd);
      s.off('close', onEnd);
      s.off('error', done);
      if (err) reject(err);
      else {
        s.pause();
        resolve(buf!);
      }
    };
    const onData = (c: Buffer): void => {
      chunks.push(c);
      have += c.length;
      if (have < n) return;
      const all = Buffer.concat(chunks);
      // A well-behaved peer sends no more than asked; anything extra is left unread.
      if (all.length > n) s.unshift(all.subarray(n));
      done(undefined, all.subarray(0, n));
    };
    const onEnd = (): void => done(new Error(`stream ended after ${have} of ${n} bytes`));
    s.on('data', onData);
    s.once('end', onEnd);
    s.once('close', onEnd);
    s.once('error', done);
    s.resume();
  });
}

export interface Throughput {
  bytes: number;
  seconds: number;
  /** 10^6 bytes per second. */
  mbPerSec: number;
}

/**
 * One stream of `bytes` bytes to the sink, 64 KiB writes with backpressure; timed from the first byte written to
 * the sink's count, which must equal `bytes` (so everything arrived, not just left this process).
 */
export async function measureThroughput(connectFn: Connect, bytes: number): Promise<Throughput> {
  const s = await connectFn();
  try {
    const chunk = Buffer.alloc(64 * 1024, 0xa5);
    const head = Buffer.alloc(9);
    head[0] = 0x53;
    head.writeBigUInt64BE(BigInt(bytes), 1);
    const reply = readExactly(s, 8);
    const started = process.hrtime.bigint();
    s.write(head);
    for (let left = bytes; left > 0; left -= chunk.length) {
      const ok = s.write(left >= chunk.length ? chunk : chunk.subarray(0, left));
      if (!ok) await once(s, 'drain');
    }
    const count = (await reply).readBigUInt64BE();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (count !== BigInt(bytes)) throw new Error(`the sink counted ${count} bytes, ${bytes} were sent`);
    return { bytes, seconds, mbPerSec: bytes / 1e6 / seconds };
  } finally {
    s.destroy();
  }
}

export interface RoundTrips {
  n: number;
  p50Ms: number;
  p99Ms: number;
}

/** `n` 1-byte request/responses on one stream to the echo server, one at a time (after 10 unmeasured ones). */
export async function measureRoundTrips(connectFn: Connect, n: number): Promise<RoundTrips> {
  const s = await connectFn();
  try {
    s.write(Buffer.from('E'));
    const ms: number[] = [];
    const one = Buffer.from([0x2a]);
    for (let i = -10; i < n; i++) {
      const started = process.hrtime.bigint();
      s.write(one);
      const b = await readExactly(s, 1);
      if (b[0] !== 0x2a) throw new Error(`echo returned ${b[0]}`);
      if (i >= 0) ms.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    ms.sort((a, b) => a - b);
    return { n, p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99) };
  } finally {
    s.destroy();
  }
}

/** p50/p99 of `n` runs of an async action (e.g. `kubectl exec -- true`), one at a time. */
export async function measureRuns(n: number, run: () => Promise<void>): Promise<RoundTrips> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = process.hrtime.bigint();
    await run();
    ms.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return { n, p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99) };
}

/** Kills a child we started, by its pid, and waits for it to exit. */
export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** Resolves with the first match of `re` in the child's stdout+stderr; rejects if it exits or times out first. */
export function waitForOutput(child: ChildProcess, re: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = re.exec(out);
      if (m) finish(undefined, m);
    };
    const onExit = (code: number | null): void => finish(new Error(`exited ${code} before printing ${re}:\n${out}`));
    const timer = setTimeout(() => finish(new Error(`no ${re} within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const finish = (err?: Error, m?: RegExpExecArray): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(m!);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

export async function freeLoopbackPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** Retries `fn` until it resolves or `timeoutMs` passes. */
async function until<T>(what: string, fn: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${what}: ${String(e)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export interface OpenSSHPeer {
  sshd: TestSshd;
  /** The client's key (authorized in the sshd) and a known_hosts file naming the sshd's host key. */
  identityFile: string;
  knownHostsFile: string;
}

/**
 * A real sshd on 127.0.0.1 (test/framework/sshd.ts: generated host key, our key authorized, TCP forwarding on),
 * and the client side's files. Stopped by `cleanup`.
 */
export async function startOpenSSHPeer(cleanup: Cleanup): Promise<OpenSSHPeer> {
  const dir = await mkdtemp(join(tmpdir(), 'hubspoke-bench-ssh-'));
  cleanup.after(() => rm(dir, { recursive: true, force: true }));
  const client = await sshKeyPair(dir, 'id_ed25519');
  const sshd = await startSshd(cleanup, { authorizedKeys: [client.publicKey] });
  const knownHostsFile = join(dir, 'known_hosts');
  await writeFile(knownHostsFile, `[${sshd.address}]:${sshd.port} ${sshd.hostKey.publicKey.trim()}\n`);
  return { sshd, identityFile: client.privateKeyFile, knownHostsFile };
}

export interface Tunnel {
  /** The local end: 127.0.0.1:localPort. */
  localPort: number;
  connect: Connect;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * `ssh -N -L <local>:<host>:<port>` through the peer with OpenSSH's default cipher and no compression, as a user
 * would run it; ready once the local port accepts a connection.
 */
export async function startSshTunnel(
  cleanup: Cleanup,
  peer: OpenSSHPeer,
  target: { host?: string; port: number },
  extraArgs: string[] = []
): Promise<Tunnel> {
  const localPort = await freeLoopbackPort();
  const child = spawn(
    'ssh',
    [
      '-N',
      '-T',
      '-F',
      'none',
      '-o',
      'BatchMode=yes',
      '-o',
      'ExitOnForwardFailure=yes',
      '-o',
      `UserKnownHostsFile=${peer.knownHostsFile}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-i',
      peer.identityFile,
      '-p',
      String(peer.sshd.port),
      '-L',
      `127.0.0.1:${localPort}:${target.host ?? '127.0.0.1'}:${target.port}`,
      ...extraArgs,
      `root@${peer.sshd.address}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] }
  );
  const stop = (): Promise<void> => killChild(child);
  cleanup.after(stop);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const connectFn = tcpConnect(localPort);
  // The listener is up before the session is; a dial that gets through proves both.
  await until(`ssh -L on ${localPort} (${stderr})`, async () => {
    if (child.exitCode !== null) throw new Error(`ssh exited ${child.exitCode}: ${stderr}`);
    await measureRoundTrips(connectFn, 1);
  });
  return { localPort, connect: connectFn, child, stop };
}

/**
 * `kubectl port-forward <target> :<port>` (kubectl picks the local port and prints it), with `env` added to its
 * environment (e.g. KUBECTL_PORT_FORWARD_WEBSOCKETS=false for SPDY).
 */
export async function startPortForward(
  cleanup: Cleanup,
  kubectlBin: string,
  kubeconfig: string,
  target: string,
  port: number,
  env: Record<string, string> = {}
): Promise<Tunnel> {
  const child = spawn(kubectlBin, ['--kubeconfig', kubeconfig, 'port-forward', target, `:${port}`], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = (): Promise<void> => killChild(child);
  cleanup.after(stop);
  const m = await waitForOutput(child, /Forwarding from 127\.0\.0\.1:(\d+) ->/);
  // Keep reading, so a full pipe never stalls kubectl (it prints a line per connection).
  child.stdout.resume();
  child.stderr.resume();
  const localPort = Number(m[1]);
  const connectFn = tcpConnect(localPort);
  await until(`kubectl port-forward on ${localPort}`, () => measureRoundTrips(connectFn, 1));
  return { localPort, connect: connectFn, child, stop };
}

export type Row = Record<string, string | number>;

/** Prints rows as an aligned Markdown table (numbers right-aligned, `digits` decimals), columns in first-seen order. */
export function printTable(rows: Row[], digits = 1): string {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: string | number | undefined): string =>
    v === undefined ? '' : typeof v === 'number' ? (Number.isFinite(v) ? v.toFixed(digits) : '–') : v;
  const cells = rows.map((r) => cols.map((c) => cell(r[c])));
  const width = cols.map((c, i) => Math.max(c.length, 3, ...cells.map((r) => r[i]!.length)));
  const numeric = cols.map((c) => rows.some((r) => typeof r[c] === 'number'));
  const line = (vals: string[]): string =>
    `| ${vals.map((v, i) => (numeric[i] ? v.padStart(width[i]!) : v.padEnd(width[i]!))).join(' | ')} |`;
  const out = [
    line(cols),
    `| ${width.map((w, i) => (numeric[i] ? '-'.repeat(w - 1) + ':' : '-'.repeat(w))).join(' | ')} |`,
    ...cells.map(line),
  ].join('\n');
  console.log(out);
  return out;
}

/** `a / b` as "1.23×" (for the ratio lines under a table). */
export const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;

// The acceptance test: real kubectl 1.27 (SPDY only), 1.30 and 1.33 (WebSocket first), and 1.33 with the
// WebSocket switches off, against a test HTTPS server whose exec and port-forward are this library, backed by real
// processes and real TCP servers.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { kubectl, kubectlBinary } from '../../test/framework/kubectl.js';
import { startFakeAPIServer, type FakeAPIServer } from './testdata/fake-apiserver.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function echoServer(t: TestContext): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('error', () => s.destroy());
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** Sends `payload` through localhost:port, half-closes, and returns what came back before the close. */
function roundTrip(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.once('error', reject);
    s.once('close', () => resolve(Buffer.concat(chunks)));
    s.once('connect', () => s.end(payload));
  });
}

/** Starts `kubectl port-forward` with random local ports; resolves with the local port for each remote one. */
async function portForward(
  t: TestContext,
  minor: number,
  kubeconfig: string,
  env: Record<string, string>,
  remotePorts: number[]
): Promise<{ local: Map<number, number>; child: ChildProcess; output: () => string }> {
  const child = spawn(
    kubectlBinary(minor),
    ['--kubeconfig', kubeconfig, 'port-forward', 'pod/mypod', ...remotePorts.map((p) => `:${p}`)],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }
  );
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const local = new Map<number, number>();
  const deadline = Date.now() + 20_000;
  while (local.size < remotePorts.length) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`port-forward did not start: ${out}`);
    for (const m of out.matchAll(/Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/g)) local.set(Number(m[2]), Number(m[1]));
    await new Promise((r) => setTimeout(r, 50));
  }
  return { local, child, output: () => out };
}

interface Case {
  minor: number;
  /** Through a second server that relays as the API server does toward a kubelet. */
  relay?: boolean;
  env: Record<string, string>;
  exec: 'spdy' | 'websocket';
  portForward: 'spdy' | 'websocket';
}

const cases: Case[] = [
  { minor: 27, env: {}, exec: 'spdy', portForward: 'spdy' },
  { minor: 30, env: {}, exec: 'websocket', portForward: 'spdy' },
  { minor: 33, env: {}, exec: 'websocket', portForward: 'websocket' },
  {
    minor: 33,
    env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false', KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' },
    exec: 'spdy',
    portForward: 'spdy',
  },
  { minor: 27, relay: true, env: {}, exec: 'spdy', portForward: 'spdy' },
  { minor: 33, relay: true, env: {}, exec: 'websocket', portForward: 'websocket' },
];

let direct: FakeAPIServer | undefined;
let relaying: FakeAPIServer | undefined;
/** The server kubectl talks to, and the one that runs the processes and dials (the same one unless relaying). */
async function fake(c: Case): Promise<{ s: FakeAPIServer; back: FakeAPIServer }> {
  direct ??= await startFakeAPIServer();
  if (!c.relay) return { s: direct, back: direct };
  relaying ??= await startFakeAPIServer({ url: direct.url, caPem: direct.caPem });
  return { s: relaying, back: direct };
}
test.after(async () => {
  await relaying?.close();
  await direct?.close();
});

for (const c of cases) {
  const label = `kubectl 1.${c.minor}${Object.keys(c.env).length ? ' (WebSockets off)' : ''}${c.relay ? ' through a relay' : ''}`;

  test(`${label}: exec prints the output and exits with the command's code, over ${c.exec}`, async () => {
    const { s, back } = await fake(c);
    const k = kubectl(c.minor, s.kubeconfigPath);
    const before = s.upgrades.length;
    const r = await k(['exec', 'mypod', '--', 'sh', '-c', 'echo hi; echo to-stderr >&2; exit 3'], { env: c.env });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    assert.match(r.stderr, /to-stderr\n/);
    assert.match(r.stderr, /command terminated with exit code 3/);
    assert.deepEqual(
      s.upgrades.slice(before).map((u) => u.split(' ').slice(0, 2).join(' ')),
      [`${c.exec} exec`]
    );
    // Behind the relay, the kubelet stand-in is always reached over SPDY.
    if (c.relay) assert.match(back.upgrades.at(-1) ?? '', /^spdy exec v4\.channel\.k8s\.io$/);
  });

  test(`${label}: exec -i pipes stdin through cat, EOF included`, async () => {
    const { s } = await fake(c);
    const k = kubectl(c.minor, s.kubeconfigPath);
    const input = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`).join('\n') + '\n';
    const r = await k(['exec', '-i', 'mypod', '--', 'cat'], { stdin: input, env: c.env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha(Buffer.from(r.stdout)), sha(Buffer.from(input)));
  });

  test(`${label}: port-forward two ports, concurrent connections by hash, and still working after a refused one`, async (t) => {
    const { s, back } = await fake(c);
    const [a, b] = [await echoServer(t), await echoServer(t)];
    const dead = await closedPort();
    const before = s.upgrades.length;
    const pf = await portForward(t, c.minor, s.kubeconfigPath, c.env, [a, b, dead]);
    const check = async (n: number): Promise<void> => {
      const results = await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const payload = randomBytes(100_000 + i * 777);
          const back = await roundTrip(pf.local.get(i % 2 ? a : b)!, payload);
          return sha(back) === sha(payload);
        })
      );
      assert.deepEqual(results, Array(n).fill(true), pf.output());
    };
    await check(10);
    // kubectl closes its side of a refused connection; with our bytes still unread there, the kernel sends a
    // reset instead of a FIN. Either way nothing comes back.
    const refused = await roundTrip(pf.local.get(dead)!, Buffer.from('anyone?')).catch((err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' ? Buffer.alloc(0) : Promise.reject(err)
    );
    assert.equal(refused.length, 0);
    await check(6);
    assert.equal(pf.child.exitCode, null, `kubectl port-forward exited: ${pf.output()}`);
    assert.ok(back.dialErrors.some((e) => e.port === dead));
    assert.deepEqual(
      s.upgrades.slice(before).map((u) => u.split(' ').slice(0, 2).join(' ')),
      [`${c.portForward} portforward`]
    );
    pf.child.kill('SIGTERM');
    await once(pf.child, 'exit');
  });
}

// Against one `hubspoke up`, with the real kubectl 1.27 (SPDY), 1.30 (WebSocket exec, SPDY port-forward), 1.33
// (WebSocket both) and 1.33 with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false and KUBECTL_PORT_FORWARD_WEBSOCKETS=false:
// `port-forward` of two ports with 20 concurrent connections, 100 MiB each way checked by sha256, and still working
// after a connection to a port nothing listens on failed; `cp` both ways of a 50 MiB file, checked by sha256.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually } from '../framework/api.js';
import { kubectl, streamingVariants } from '../framework/kubectl.js';
import { startUp } from '../framework/up.js';

const MiB = 1024 * 1024;

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

// The pod: HTTP on `http` (GET /big: 100 MiB, its sha256 in a header; POST /sha256: the body's hash; else an
// echo of the path), a TCP echo server on `echo`.
const podScript = (http: number, echo: number): string => `
const { createHash, randomBytes } = require('crypto');
const block = randomBytes(1 << 20);
const h = createHash('sha256');
for (let i = 0; i < 100; i++) h.update(block);
const bigHash = h.digest('hex');
require('http').createServer((q, r) => {
  if (q.url === '/big') {
    r.writeHead(200, { 'x-sha256': bigHash, 'content-length': String(100 * block.length) });
    let i = 0;
    const more = () => { while (i < 100) { i++; if (!r.write(block)) return r.once('drain', more); } r.end(); };
    return more();
  }
  if (q.url === '/sha256') {
    const s = createHash('sha256');
    let n = 0;
    q.on('data', (c) => { s.update(c); n += c.length; });
    return q.on('end', () => r.end(n + ' ' + s.digest('hex')));
  }
  r.end('hi ' + q.url);
}).listen(${http}, '127.0.0.1');
require('net').createServer((s) => s.pipe(s)).listen(${echo}, '127.0.0.1');
`;

function get(port: number, path: string): Promise<{ body: Buffer; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => resolve({ body: Buffer.concat(chunks), headers: res.headers }));
      res.once('error', reject);
    })
      .once('error', reject)
      .end();
  });
}

/** Downloads /big hashing as it goes (100 MiB is not kept). */
function download(port: number): Promise<{ size: number; sha256: string; expected: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/big' }, (res) => {
      const h = createHash('sha256');
      let size = 0;
      res.on('data', (c: Buffer) => {
        h.update(c);
        size += c.length;
      });
      res.once('end', () => resolve({ size, sha256: h.digest('hex'), expected: String(res.headers['x-sha256']) }));
      res.once('error', reject);
    })
      .once('error', reject)
      .end();
  });
}

/** Uploads 100 MiB of random bytes; resolves with what the pod counted and hashed, and the local hash. */
function upload(port: number): Promise<{ answer: string; local: string }> {
  const block = randomBytes(MiB);
  const h = createHash('sha256');
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/sha256', method: 'POST' }, (res) => {
      let answer = '';
      res.on('data', (c: Buffer) => (answer += c.toString()));
      res.once('end', () => resolve({ answer, local: `${100 * MiB} ${h.digest('hex')}` }));
    });
    req.once('error', reject);
    let i = 0;
    const more = (): void => {
      while (i < 100) {
        i++;
        h.update(block);
        if (!req.write(block)) return void req.once('drain', more);
      }
      req.end();
    };
    more();
  });
}

function echo(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(text));
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.once('close', () => resolve(got));
    s.once('error', reject);
  });
}

/** A connection to a forwarded port nothing listens on in the pod: it is closed (or reset), nothing more. */
function refused(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write('anyone?'));
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.once('error', () => undefined);
    s.once('close', () => resolve(got));
  });
}

const sha256File = (path: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .once('end', () => resolve(h.digest('hex')))
      .once('error', reject);
  });

test('port-forward (two ports, 20 connections, 100 MiB each way, a refused port) and cp (50 MiB both ways), kubectl 1.27, 1.30, 1.33', async (t) => {
  const up = await startUp(t);
  const dir = await mkdtemp(join(tmpdir(), 'hubspoke-xfer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const [httpPort, echoPort, closedPort] = [await freePort(), await freePort(), await freePort()];
  const admin = kubectl(33, up.kubeconfigPath);
  await eventually(
    'the default service account',
    async () => ((await admin(['get', 'serviceaccount', 'default'])).code === 0 ? true : undefined),
    20_000
  );
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'xfer' },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'main',
          image: 'host',
          command: [process.execPath, '-e', podScript(httpPort, echoPort)],
          ports: [
            { name: 'http', containerPort: httpPort },
            { name: 'echo', containerPort: echoPort },
          ],
        },
      ],
    },
  };
  await admin.ok(['apply', '-f', '-'], { stdin: JSON.stringify(pod) });
  await admin.ok(['wait', '--for=condition=Ready', 'pod/xfer', '--timeout=30s']);
  const file = join(dir, 'fifty.bin');
  await writeFile(file, randomBytes(50 * MiB));
  const fileHash = await sha256File(file);

  for (const [minor, env] of streamingVariants) {
    const k = kubectl(minor, up.kubeconfigPath);
    const what = `kubectl 1.${minor} ${JSON.stringify(env)}`;
    const [lHttp, lEcho, lClosed] = [await freePort(), await freePort(), await freePort()];
    const pf = k.spawn(
      ['port-forward', 'pod/xfer', `${lHttp}:${httpPort}`, `${lEcho}:${echoPort}`, `${lClosed}:${closedPort}`],
      {
        env,
      }
    );
    t.after(() => void pf.kill('SIGKILL'));
    let pfErr = '';
    pf.stderr!.on('data', (d: Buffer) => (pfErr += d.toString()));
    await eventually(`${what}: port-forward serves`, () =>
      get(lHttp, '/ready')
        .then((r) => r.body.toString())
        .catch(() => undefined)
    );

    // A connection to a port without a listener fails on its own; the session goes on.
    assert.equal(await refused(lClosed), '', what);
    assert.equal(pf.exitCode, null, `${what}: port-forward still running: ${pfErr}`);

    // 20 concurrent connections over both ports.
    const results = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => get(lHttp, `/c${i}`).then((r) => r.body.toString())),
      ...Array.from({ length: 10 }, (_, i) => echo(lEcho, `echo ${i}`)),
    ]);
    assert.deepEqual(
      results,
      [...Array.from({ length: 10 }, (_, i) => `hi /c${i}`), ...Array.from({ length: 10 }, (_, i) => `echo ${i}`)],
      what
    );

    // 100 MiB each way, hashed on both ends.
    const started = Date.now();
    const down = await download(lHttp);
    assert.equal(down.size, 100 * MiB, what);
    assert.equal(down.sha256, down.expected, what);
    const { answer, local } = await upload(lHttp);
    assert.equal(answer, local, what);
    t.diagnostic(`${what}: 200 MiB through port-forward in ${Date.now() - started} ms`);
    assert.equal(pf.exitCode, null, `${what}: port-forward still running: ${pfErr}`);
    pf.kill('SIGKILL');

    // exec: stdin piped to the end, the exit code propagated.
    const exec = await k(['exec', '-i', 'xfer', '--', 'sh', '-c', 'cat; echo err >&2; exit 3'], {
      stdin: 'piped',
      env,
    });
    assert.deepEqual([exec.code, exec.stdout], [3, 'piped'], `${what}: ${exec.stderr}`);
    assert.match(exec.stderr, /^err\n/, what);

    // cp both ways (exec + tar underneath), 50 MiB.
    await k.ok(['cp', file, 'xfer:/tmp/up.bin'], { env });
    const inPod = await k.ok(['exec', 'xfer', '--', 'sha256sum', '/tmp/up.bin'], { env });
    assert.equal(inPod.split(' ')[0], fileHash, what);
    const back = join(dir, `back-${minor}-${Object.keys(env).length}.bin`);
    await k.ok(['cp', 'xfer:/tmp/up.bin', back], { env });
    assert.equal(await sha256File(back), fileHash, what);
    await k.ok(['exec', 'xfer', '--', 'rm', '/tmp/up.bin'], { env });
  }
});

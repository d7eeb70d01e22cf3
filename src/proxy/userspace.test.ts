// The userspace proxier against real sockets: a ClusterIP in 127/8 in front of two TCP servers.
import assert from 'node:assert/strict';
import { connect, createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { newLogger } from '../lib/log.js';
import type { EndpointSlice, Service } from './service-ports.js';
import { UserspaceProxier } from './userspace.js';

function echoName(name: string): Promise<Server> {
  return new Promise((resolve) => {
    const s = createServer((c) => c.end(name));
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}
const portOf = (s: Server): number => (s.address() as { port: number }).port;

/** Connects, returns what the server sent, or the error code. */
function dial(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const c = connect({ host, port });
    let got = '';
    c.on('data', (d: Buffer) => (got += d.toString()));
    c.on('end', () => resolve(got));
    c.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; ; i++) {
    const v = await f();
    if (ok(v) || i > 50) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('round-robin over ready endpoints, refused endpoints skipped, none → refused at once', async (t) => {
  const [a, b] = [await echoName('a'), await echoName('b')];
  const dead = createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  const deadPort = portOf(dead);
  dead.close(); // nothing listens there now: connections are refused
  const proxier = new UserspaceProxier(newLogger({ level: 'silent' }));
  t.after(() => {
    proxier.close();
    a.close();
    b.close();
  });
  // A ClusterIP in 127/8 (the `up` range) and a port nobody else is likely to hold there.
  const ip = `127.96.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;
  const port = 20000 + Math.floor(Math.random() * 20000);
  const svc: Service = {
    metadata: { namespace: 'default', name: 'web' },
    spec: { clusterIP: ip, ports: [{ name: 'http', protocol: 'TCP', port }] },
  };
  // One slice per endpoint: the target port differs per endpoint only in this test.
  const sliceFor = (name: string, p: number, ready = true): EndpointSlice => ({
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: p }],
    metadata: { namespace: 'default', name, labels: { 'kubernetes.io/service-name': 'web' } },
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready } }],
  });

  proxier.onService('ADDED', svc);
  assert.equal(await dial(ip, port), 'ECONNREFUSED', 'no endpoints: refused');
  proxier.onEndpointSlice('ADDED', sliceFor('web-a', portOf(a)));
  proxier.onEndpointSlice('ADDED', sliceFor('web-b', portOf(b)));
  proxier.onEndpointSlice('ADDED', sliceFor('web-dead', deadPort));
  proxier.onEndpointSlice('ADDED', sliceFor('web-unready', portOf(a), false));
  await until(
    () => dial(ip, port),
    (v) => v === 'a' || v === 'b'
  );
  const seen = new Set<string>();
  for (let i = 0; i < 6; i++) seen.add(await dial(ip, port));
  assert.deepEqual([...seen].sort(), ['a', 'b'], 'both reached, the refusing endpoint skipped');

  // One endpoint goes: traffic continues to the other.
  proxier.onEndpointSlice('DELETED', sliceFor('web-a', portOf(a)));
  for (let i = 0; i < 4; i++) assert.equal(await dial(ip, port), 'b');

  // All go: the listener closes, so clients are refused at once rather than hung.
  proxier.onEndpointSlice('DELETED', sliceFor('web-b', portOf(b)));
  proxier.onEndpointSlice('DELETED', sliceFor('web-dead', deadPort));
  assert.equal(
    await until(
      () => dial(ip, port),
      (v) => v === 'ECONNREFUSED'
    ),
    'ECONNREFUSED'
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, Agent } from 'node:https';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCA, issueCertificate } from '../../pki/index.js';
import { x509Authenticator } from './x509.js';

async function pki() {
  const ca = await createCA({ commonName: 'test-ca' });
  const other = await createCA({ commonName: 'other-ca' });
  const serving = await issueCertificate({
    ca,
    commonName: 'server',
    ipAddresses: ['127.0.0.1'],
    usages: ['server'],
    validityMs: 3_600_000,
  });
  const client = (issuer: typeof ca, commonName: string, organizations: string[]) =>
    issueCertificate({ ca: issuer, commonName, organizations, usages: ['client'], validityMs: 3_600_000 });
  return {
    ca,
    serving,
    alice: await client(ca, 'alice', ['devs', 'ops']),
    bob: await client(ca, 'bob', []),
    mallory: await client(other, 'mallory', ['system:masters']),
  };
}

/** An HTTPS server answering each request with what the authenticator made of it. */
async function authServer(p: Awaited<ReturnType<typeof pki>>): Promise<Server> {
  const authn = x509Authenticator();
  const server = createServer(
    { key: p.serving.key, cert: p.serving.cert, ca: p.ca.cert, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      authn.authenticate(req).then(
        (user) => res.end(JSON.stringify({ user })),
        (err: Error) => res.end(JSON.stringify({ error: err.message }))
      );
    }
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function ask(server: Server, agent: Agent): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/', agent },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(JSON.parse(body)));
      }
    );
    req.on('error', reject);
    req.end();
  });
}

test('x509 - each connection is its certificate user on every request; an untrusted one is refused each time', async () => {
  const p = await pki();
  const server = await authServer(p);
  const agent = (pair?: { cert: string; key?: string }) =>
    new Agent({ keepAlive: true, maxSockets: 1, ca: p.ca.cert, cert: pair?.cert, key: pair?.key });
  const [alice, bob, mallory, anonymous] = [agent(p.alice), agent(p.bob), agent(p.mallory), agent()];
  try {
    for (let i = 0; i < 3; i++) {
      // Interleaved on kept-alive connections: a connection's answer never leaks to another.
      assert.deepEqual(await ask(server, alice), { user: { name: 'alice', groups: ['devs', 'ops'] } });
      assert.deepEqual(await ask(server, bob), { user: { name: 'bob', groups: [] } });
      const refused = (await ask(server, mallory)) as { error: string };
      assert.match(refused.error, /certificate/);
      assert.deepEqual(await ask(server, anonymous), { user: null });
    }
  } finally {
    for (const a of [alice, bob, mallory, anonymous]) a.destroy();
    server.close();
  }
});

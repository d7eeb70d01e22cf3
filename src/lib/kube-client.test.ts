// KubeClient.setClientCertificate: new requests present the new certificate, a request in flight on the old
// connection still completes.
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { test } from 'node:test';
import { createCA, issueCertificate } from '../pki/index.js';
import { KubeClient } from './kube-client.js';

test('setClientCertificate switches new connections to the new pair without failing one in flight', async (t) => {
  const ca = await createCA({ commonName: 'test-ca' });
  const serving = await issueCertificate({
    ca,
    commonName: 'server',
    ipAddresses: ['127.0.0.1'],
    usages: ['server'],
    validityMs: 60_000,
  });
  const client = (cn: string) => issueCertificate({ ca, commonName: cn, usages: ['client'], validityMs: 60_000 });
  const [first, second] = [await client('first'), await client('second')];
  const server = createServer(
    { cert: serving.cert, key: serving.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const cn = (req.socket as TLSSocket).getPeerCertificate().subject.CN;
      const delay = req.url === '/slow' ? 300 : 0;
      setTimeout(() => res.end(JSON.stringify({ cn })), delay);
    }
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const kc = new KubeClient({
    server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    caPem: ca.cert,
    certPem: first.cert,
    keyPem: first.key,
  });
  t.after(() => kc.close());

  assert.deepEqual(await kc.get('/'), { cn: 'first' });
  const slow = kc.get('/slow'); // on a connection made with the first pair
  await new Promise((r) => setTimeout(r, 50));
  kc.setClientCertificate(second.cert, second.key);
  assert.deepEqual(await kc.get('/'), { cn: 'second' });
  assert.deepEqual(await slow, { cn: 'first' });
  assert.deepEqual(await kc.get('/'), { cn: 'second' });
});

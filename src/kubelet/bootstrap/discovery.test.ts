// Token discovery against servers that send no CA in the handshake: the CA then comes from kube-public/cluster-info,
// read with the token, and must match the pin and have signed the server's certificate.
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { stringify } from 'yaml';
import { caCertHash, createCA, issueCertificate, type CertKeyPair } from '../../pki/index.js';
import { discoverClusterCA } from './discovery.js';

const token = 'abcdef.0123456789abcdef';

/** A server presenting only its leaf (signed by `signer`) and publishing `published` as cluster-info's CA. */
async function serve(t: TestContext, signer: CertKeyPair, published: string, chain = false): Promise<string> {
  const leaf = await issueCertificate({
    ca: signer,
    commonName: 'kube-apiserver',
    ipAddresses: ['127.0.0.1'],
    usages: ['server'],
    validityMs: 60_000,
  });
  const kubeconfig = stringify({
    clusters: [
      {
        name: '',
        cluster: { server: 'https://x', 'certificate-authority-data': Buffer.from(published).toString('base64') },
      },
    ],
  });
  const server = createServer(
    { cert: chain ? `${leaf.cert.trimEnd()}\n${signer.cert}` : leaf.cert, key: leaf.key },
    (req, res) => {
      if (req.headers.authorization !== `Bearer ${token}`) {
        res.writeHead(401).end(JSON.stringify({ message: 'Unauthorized' }));
        return;
      }
      res.end(JSON.stringify({ data: { kubeconfig } }));
    }
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const opts = (server: string, pins: string[]) => ({
  server,
  token,
  caCertHashes: pins,
  unsafeSkipCAVerification: false,
});

test('discovery: the CA from the TLS chain, before any token is sent', async (t) => {
  const ca = await createCA({ commonName: 'kubernetes' });
  const other = await createCA({ commonName: 'other' });
  const server = await serve(t, ca, other.cert, true); // cluster-info lies: it is never read
  const found = await discoverClusterCA(opts(server, [caCertHash(ca.cert)]));
  assert.equal(found.source, 'tls-chain');
  assert.equal(found.hash, caCertHash(ca.cert));
});

test('discovery: the CA from cluster-info when the server sends no chain', async (t) => {
  const ca = await createCA({ commonName: 'kubernetes' });
  const server = await serve(t, ca, ca.cert);
  const found = await discoverClusterCA(opts(server, [caCertHash(ca.cert)]));
  assert.deepEqual([found.source, found.caPem.trim()], ['cluster-info', ca.cert.trim()]);
  await assert.rejects(
    discoverClusterCA({ ...opts(server, [caCertHash(ca.cert)]), token: 'zzzzzz.zzzzzzzzzzzzzzzz' }),
    /HTTP 401/
  );
});

test('discovery: a cluster-info CA that fails the pin names both hashes and says the token is exposed', async (t) => {
  const ca = await createCA({ commonName: 'kubernetes' });
  const pinned = await createCA({ commonName: 'pinned' });
  const server = await serve(t, ca, ca.cert);
  await assert.rejects(discoverClusterCA(opts(server, [caCertHash(pinned.cert)])), (err: Error) => {
    assert.ok(err.message.includes(caCertHash(ca.cert)) && err.message.includes(caCertHash(pinned.cert)), err.message);
    assert.match(err.message, /treat the token as exposed/);
    return true;
  });
});

test('discovery: a pinned CA in cluster-info that did not sign the server certificate is refused', async (t) => {
  const real = await createCA({ commonName: 'kubernetes' });
  const impostor = await createCA({ commonName: 'impostor' });
  const server = await serve(t, impostor, real.cert); // a man in the middle replaying the real cluster-info
  await assert.rejects(
    discoverClusterCA(opts(server, [caCertHash(real.cert)])),
    /is not signed by the CA in kube-public\/cluster-info/
  );
});

test('discovery: no pin and no unsafe flag is refused before connecting', async () => {
  await assert.rejects(
    discoverClusterCA(opts('https://127.0.0.1:1', [])),
    /--discovery-token-unsafe-skip-ca-verification/
  );
});

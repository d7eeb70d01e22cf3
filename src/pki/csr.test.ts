import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { createCA, type CertKeyPair } from './ca.js';
import { keyMatchesCertificate, parseCertificate, verifyIssuedBy } from './certificates.js';
import { createCSR, parseCSR, signCSR } from './csr.js';

const HOUR_MS = 60 * 60 * 1000;

// Changes one byte of the DER inside a PEM block, keeping the structure parseable.
function tamper(pem: string, from: string, to: string): string {
  const body = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, '');
  const der = Buffer.from(body, 'base64');
  const at = der.indexOf(from);
  assert.ok(at > 0, `"${from}" is in the DER`);
  der.write(to, at);
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

describe('csr', () => {
  let ca: CertKeyPair;
  let node: { csr: string; key: string };

  before(async () => {
    [ca, node] = await Promise.all([
      createCA({ commonName: 'kubernetes' }),
      createCSR({
        commonName: 'system:node:node-1',
        organizations: ['system:nodes'],
        dnsNames: ['node-1'],
        ipAddresses: ['10.0.0.5', '::1'],
      }),
    ]);
  });

  it('createCSR - openssl verifies it and reads subject and requested SANs', () => {
    const text = execFileSync('openssl', ['req', '-noout', '-text', '-verify'], { input: node.csr, encoding: 'utf8' });
    assert.match(text, /Subject: O = system:nodes, CN = system:node:node-1\n/);
    assert.match(text, /DNS:node-1, IP Address:10.0.0.5, IP Address:0:0:0:0:0:0:0:1\n/);
    assert.match(node.csr, /^-----BEGIN CERTIFICATE REQUEST-----/);
  });

  it('parseCSR - reads back the request', async () => {
    const info = await parseCSR(node.csr);
    assert.deepEqual(
      { ...info, publicKeyPem: undefined },
      {
        commonName: 'system:node:node-1',
        organizations: ['system:nodes'],
        dnsNames: ['node-1'],
        ipAddresses: ['10.0.0.5', '::1'],
        emailAddresses: [],
        uris: [],
        publicKeyPem: undefined,
        signatureValid: true,
        keyAlgorithm: 'ECDSA-P256',
      }
    );
    const publicKey = execFileSync('openssl', ['pkey', '-pubout'], { input: node.key, encoding: 'utf8' });
    assert.equal(info.publicKeyPem, publicKey);
  });

  it('parseCSR - a CSR made by openssl with an existing RSA key', async () => {
    const key = execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], {
      encoding: 'utf8',
    });
    const csr = await createCSR({ commonName: 'renew', key });
    const info = await parseCSR(csr.csr);
    assert.equal(csr.key, key);
    assert.equal(info.keyAlgorithm, 'RSA-2048');
    assert.equal(info.signatureValid, true);
    assert.deepEqual([info.dnsNames, info.ipAddresses, info.organizations], [[], [], []]);
  });

  it('parseCSR - a changed subject no longer matches the signature', async () => {
    const forged = tamper(node.csr, 'system:node:node-1', 'system:node:node-2');
    const info = await parseCSR(forged);
    assert.equal(info.commonName, 'system:node:node-2');
    assert.equal(info.signatureValid, false);
    await assert.rejects(signCSR({ ca, csrPem: forged, usages: ['client'], validityMs: HOUR_MS }), /does not verify/);
  });

  it('signCSR - issues a certificate for the CSR key with its subject and SANs', async () => {
    const cert = await signCSR({ ca, csrPem: node.csr, usages: ['client', 'server'], validityMs: HOUR_MS });
    const info = parseCertificate(cert);
    assert.equal(info.commonName, 'system:node:node-1');
    assert.deepEqual(info.organizations, ['system:nodes']);
    assert.deepEqual(info.dnsNames, ['node-1']);
    assert.deepEqual(info.ipAddresses, ['10.0.0.5', '::1']);
    assert.deepEqual(info.usages, ['server', 'client']);
    assert.equal(verifyIssuedBy(cert, ca.cert), true);
    assert.equal(keyMatchesCertificate(node.key, cert), true);
  });

  it('parseCSR - rejects what is not a CSR', async () => {
    await assert.rejects(parseCSR('not a pem'));
  });
});

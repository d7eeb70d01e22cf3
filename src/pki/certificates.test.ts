import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCA, type CertKeyPair } from './ca.js';
import { issueCertificate, keyMatchesCertificate, parseCertificate, verifyIssuedBy } from './certificates.js';

const HOUR_MS = 60 * 60 * 1000;
const openssl = (args: string[], input?: string): string => execFileSync('openssl', args, { input, encoding: 'utf8' });
const certText = (pem: string): string => openssl(['x509', '-noout', '-text'], pem);

describe('certificates', () => {
  let ca: CertKeyPair;
  let otherCA: CertKeyPair;
  let server: CertKeyPair;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pki-certs-'));
    [ca, otherCA] = await Promise.all([createCA({ commonName: 'kubernetes' }), createCA({ commonName: 'other' })]);
    server = await issueCertificate({
      ca,
      commonName: 'kube-apiserver',
      dnsNames: ['localhost', 'kubernetes.default.svc'],
      ipAddresses: ['127.0.0.1', '::1', 'fd00:10:96::1', '::ffff:10.0.0.7'],
      usages: ['server'],
      validityMs: HOUR_MS,
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('createCA - self-signed CA with critical basicConstraints and keyUsage, SKI, ECDSA P-256', () => {
    const text = certText(ca.cert);
    assert.match(text, /Issuer: CN = kubernetes\s/);
    assert.match(text, /Subject: CN = kubernetes\s/);
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:TRUE/);
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
    assert.match(text, /X509v3 Subject Key Identifier:/);
    assert.match(text, /ASN1 OID: prime256v1/);
    assert.match(ca.key, /^-----BEGIN PRIVATE KEY-----/);
    const info = parseCertificate(ca.cert);
    assert.equal(info.isCA, true);
    const lifetimeDays = (info.notAfter.getTime() - Date.now()) / 86_400_000;
    assert.ok(lifetimeDays > 3649 && lifetimeDays <= 3650, `ten years, got ${lifetimeDays} days`);
    assert.ok(info.notBefore.getTime() < Date.now() - 4 * 60 * 1000, 'backdated for clock skew');
  });

  it('issueCertificate - openssl reads SANs (IPv4, IPv6 ::1), usages and key identifiers', () => {
    const text = certText(server.cert);
    assert.match(text, /Issuer: CN = kubernetes\s/);
    assert.match(text, /Subject: CN = kube-apiserver\s/);
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature\n/);
    assert.match(text, /X509v3 Extended Key Usage: \s+TLS Web Server Authentication\n/);
    assert.match(
      text,
      /DNS:localhost, DNS:kubernetes.default.svc, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:FD00:10:96:0:0:0:0:1, IP Address:10.0.0.7\n/
    );
    const ski = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(certText(ca.cert))?.[1];
    const aki = /Authority Key Identifier:\s+(?:keyid:)?([0-9A-F:]+)/.exec(text)?.[1];
    assert.ok(ski != null && ski === aki, `AKI ${aki} should equal the CA's SKI ${ski}`);
    const serial = /Serial Number:\s+([0-9a-f:]+)/.exec(text)?.[1]?.replace(/:/g, '') ?? '';
    assert.ok(serial.length >= 30 && serial.length <= 32, `about 128 random bits, got ${serial}`);
  });

  it('issueCertificate - openssl verify accepts it against the CA and refuses another CA', () => {
    const caFile = join(dir, 'ca.crt');
    const otherFile = join(dir, 'other.crt');
    const certFile = join(dir, 'server.crt');
    writeFileSync(caFile, ca.cert);
    writeFileSync(otherFile, otherCA.cert);
    writeFileSync(certFile, server.cert);
    assert.match(openssl(['verify', '-CAfile', caFile, '-purpose', 'sslserver', certFile]), /: OK/);
    const wrong = spawnSync('openssl', ['verify', '-CAfile', otherFile, certFile], { encoding: 'utf8' });
    assert.notEqual(wrong.status, 0);
  });

  it('parseCertificate - reads back what was issued', () => {
    const info = parseCertificate(server.cert);
    assert.equal(info.commonName, 'kube-apiserver');
    assert.deepEqual(info.organizations, []);
    assert.deepEqual(info.dnsNames, ['localhost', 'kubernetes.default.svc']);
    assert.deepEqual(info.ipAddresses, ['127.0.0.1', '::1', 'fd00:10:96::1', '10.0.0.7']);
    assert.equal(info.issuerCommonName, 'kubernetes');
    assert.equal(info.isCA, false);
    assert.deepEqual(info.usages, ['server']);
    assert.match(info.serialNumber, /^[0-9a-f]+$/);
    const opensslFingerprint = openssl(['x509', '-noout', '-fingerprint', '-sha256'], server.cert);
    assert.equal(info.fingerprintSha256, opensslFingerprint.split('=')[1]?.trim().replace(/:/g, '').toLowerCase());
    const lifetime = info.notAfter.getTime() - Date.now();
    assert.ok(lifetime > HOUR_MS - 60_000 && lifetime <= HOUR_MS, `validityMs honoured, got ${lifetime}`);
  });

  it('verifyIssuedBy - true for the issuer, false for another CA and for a self-signed peer', () => {
    assert.equal(verifyIssuedBy(server.cert, ca.cert), true);
    assert.equal(verifyIssuedBy(server.cert, otherCA.cert), false);
    assert.equal(verifyIssuedBy(ca.cert, ca.cert), true);
    assert.equal(verifyIssuedBy(otherCA.cert, ca.cert), false);
  });

  it('issueCertificate - client cert with groups, RSA keys, notAfter capped at the CA', async () => {
    const shortCA = await createCA({ commonName: 'short', validityDays: 1, keyAlgorithm: 'RSA-2048' });
    const client = await issueCertificate({
      ca: shortCA,
      commonName: 'system:node:n1',
      organizations: ['system:nodes', 'a,b+c'],
      usages: ['client', 'server', 'client'],
      notAfter: new Date(Date.now() + 30 * 86_400_000),
      keyAlgorithm: 'RSA-2048',
    });
    const info = parseCertificate(client.cert);
    assert.equal(info.commonName, 'system:node:n1');
    assert.deepEqual(info.organizations, ['system:nodes', 'a,b+c']);
    assert.deepEqual(info.usages, ['server', 'client']);
    assert.equal(info.notAfter.getTime(), parseCertificate(shortCA.cert).notAfter.getTime());
    const text = certText(client.cert);
    assert.match(text, /Public-Key: \(2048 bit\)/);
    assert.match(text, /Digital Signature, Key Encipherment/);
    assert.match(text, /Subject: O = system:nodes, O = "a,b\+c", CN = system:node:n1/);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    writeFileSync(join(dir, 'short.crt'), shortCA.cert);
    writeFileSync(join(dir, 'client.crt'), client.cert);
    const verify = ['verify', '-CAfile', join(dir, 'short.crt'), '-purpose', 'sslclient', join(dir, 'client.crt')];
    assert.match(openssl(verify), /: OK/);
    assert.equal(keyMatchesCertificate(client.key, client.cert), true);
    assert.equal(keyMatchesCertificate(server.key, client.cert), false);
  });

  it('issueCertificate - with a given public key, no key is returned and the cert carries that key', async () => {
    const publicKey = execFileSync('openssl', ['pkey', '-pubout'], { input: server.key, encoding: 'utf8' });
    const issued = await issueCertificate({ ca, commonName: 'x', usages: ['client'], validityMs: HOUR_MS, publicKey });
    assert.deepEqual(Object.keys(issued), ['cert']);
    assert.equal(keyMatchesCertificate(server.key, issued.cert), true);
  });

  it('issueCertificate - refuses bad input', async () => {
    const base = { commonName: 'x', usages: ['client'] as const, validityMs: HOUR_MS };
    const cases: [Parameters<typeof issueCertificate>[0], RegExp][] = [
      [{ ...base, ca: { cert: ca.cert, key: otherCA.key } }, /the CA private key does not match/],
      [{ ...base, ca: server }, /"kube-apiserver" is not a CA/],
      [{ ...base, ca, usages: [] }, /at least one usage/],
      [{ ...base, ca, ipAddresses: ['::1', '300.1.1.1'] }, /invalid IP address "300\.1\.1\.1"/],
      [{ ...base, ca, validityMs: -1 }, /would already be expired/],
      [{ ...base, ca, validityMs: NaN }, /would already be expired/],
      [{ ...base, ca, validityMs: undefined, notAfter: new Date(Date.now() - 1000) }, /would already be expired/],
    ];
    for (const [options, error] of cases) await assert.rejects(issueCertificate(options), error);
  });
});

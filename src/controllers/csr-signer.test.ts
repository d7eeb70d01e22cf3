import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { createCA, createCSR, parseCertificate, verifyIssuedBy, type CertKeyPair } from '../pki/index.js';
import {
  kubeAPIServerClientSigner,
  kubeletClientSigner,
  kubeletServingSigner,
  type CertificateSigningRequest,
} from './csr-rules.js';
import { certificateTTL, signRequest } from './csr-signer.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const approved = { conditions: [{ type: 'Approved', status: 'True', reason: 'Test' }] };
const yearMs = 8760 * 3600 * 1000;

function csrOf(pem: string, signerName: string, usages: string[], extra: object = {}): CertificateSigningRequest {
  return {
    metadata: { name: 'csr-1' },
    spec: { request: b64(pem), signerName, usages, username: 'someone', ...extra },
    status: approved,
  };
}

/** A CSR made by openssl from a key PEM, with an optional `-addext`. */
function opensslCSR(keyPem: string, subject: string, addext?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hubspoke-csr-'));
  try {
    writeFileSync(join(dir, 'key.pem'), keyPem, { mode: 0o600 });
    const args = ['req', '-new', '-key', join(dir, 'key.pem'), '-subj', subject];
    if (addext) args.push('-addext', addext);
    return execFileSync('openssl', args, { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const keyPem = (type: 'rsa' | 'ec', opts: { modulusLength?: number; namedCurve?: string }): string =>
  (type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: opts.modulusLength ?? 2048 })
    : generateKeyPairSync('ec', { namedCurve: opts.namedCurve ?? 'P-256' })
  ).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

describe('csr signer', () => {
  let ca: CertKeyPair;
  let client: string;
  before(async () => {
    ca = await createCA({ commonName: 'kubernetes' });
    client = (await createCSR({ commonName: 'system:node:n1', organizations: ['system:nodes'] })).csr;
  });
  const cfg = (): { ca: CertKeyPair; maxDurationMs: number } => ({ ca, maxDurationMs: yearMs });

  it('signs an approved kubelet client CSR from the CA, copying the subject', async () => {
    const r = await signRequest(csrOf(client, kubeletClientSigner, ['digital signature', 'client auth']), cfg());
    assert.ok(r && 'certificate' in r);
    const info = parseCertificate(r.certificate);
    assert.equal(info.commonName, 'system:node:n1');
    assert.deepEqual(info.organizations, ['system:nodes']);
    assert.deepEqual(info.usages, ['client']);
    assert.equal(info.isCA, false);
    assert.ok(verifyIssuedBy(r.certificate, ca.cert));
    // a year, less the 5 minute backdate taken off long-lived certificates
    const lifetime = info.notAfter.getTime() - Date.now();
    assert.ok(Math.abs(lifetime - (yearMs - 5 * 60_000)) < 60_000, `lifetime ${lifetime}`);
    assert.ok(Date.now() - info.notBefore.getTime() >= 4 * 60_000);
  });

  it('honours expirationSeconds, with the 10 minute floor and the signing-duration cap', async () => {
    assert.equal(certificateTTL(yearMs, undefined), yearMs);
    assert.equal(certificateTTL(yearMs, 3600), 3600_000);
    assert.equal(certificateTTL(yearMs, 60), 600_000);
    assert.equal(certificateTTL(3600_000, 7200), 3600_000);
    const r = await signRequest(
      csrOf(client, kubeletClientSigner, ['digital signature', 'client auth'], { expirationSeconds: 1200 }),
      cfg()
    );
    assert.ok(r && 'certificate' in r);
    const lifetime = parseCertificate(r.certificate).notAfter.getTime() - Date.now();
    assert.ok(Math.abs(lifetime - 1200_000) < 5_000, `lifetime ${lifetime}`);
  });

  it('leaves pending, denied, failed, issued and foreign-signer CSRs alone', async () => {
    const base = csrOf(client, kubeletClientSigner, ['digital signature', 'client auth']);
    assert.equal(await signRequest({ ...base, status: {} }, cfg()), undefined);
    const failed = { conditions: [...approved.conditions, { type: 'Failed', status: 'True' }] };
    assert.equal(await signRequest({ ...base, status: failed }, cfg()), undefined);
    assert.equal(await signRequest({ ...base, status: { ...approved, certificate: 'QQ==' } }, cfg()), undefined);
    assert.equal(
      await signRequest(csrOf(client, 'example.com/other', ['digital signature', 'client auth']), cfg()),
      undefined
    );
  });

  it('fails requests whose subject, SANs or usages do not fit the signer, with upstream messages', async () => {
    const serving = (
      await createCSR({ commonName: 'system:node:n1', organizations: ['system:nodes'], dnsNames: ['n1'] })
    ).csr;
    const noOrg = (await createCSR({ commonName: 'system:node:n1' })).csr;
    const notNode = (await createCSR({ commonName: 'alice', organizations: ['system:nodes'] })).csr;
    const withIP = (
      await createCSR({ commonName: 'system:node:n1', organizations: ['system:nodes'], ipAddresses: ['10.0.0.1'] })
    ).csr;
    const email = opensslCSR(
      keyPem('ec', { namedCurve: 'P-256' }),
      '/O=system:nodes/CN=system:node:n1',
      'subjectAltName=email:a@b.c'
    );
    const cases: [string, string, string[], string][] = [
      [noOrg, kubeletClientSigner, ['digital signature', 'client auth'], 'subject organization is not system:nodes'],
      [
        notNode,
        kubeletClientSigner,
        ['digital signature', 'client auth'],
        'subject common name does not begin with system:node:',
      ],
      [serving, kubeletClientSigner, ['digital signature', 'client auth'], 'DNS subjectAltNames are not allowed'],
      [withIP, kubeletClientSigner, ['digital signature', 'client auth'], 'IP subjectAltNames are not allowed'],
      [email, kubeletClientSigner, ['digital signature', 'client auth'], 'Email subjectAltNames are not allowed'],
      [
        client,
        kubeletClientSigner,
        ['client auth'],
        'usages did not match [client auth digital signature key encipherment]',
      ],
      [
        client,
        kubeletClientSigner,
        ['digital signature', 'client auth', 'server auth'],
        'usages did not match [client auth digital signature key encipherment]',
      ],
      [client, kubeletServingSigner, ['digital signature', 'server auth'], 'DNS or IP subjectAltName is required'],
      [
        serving,
        kubeletServingSigner,
        ['digital signature', 'client auth'],
        'usages did not match [digital signature key encipherment server auth]',
      ],
      [
        notNode,
        kubeAPIServerClientSigner,
        ['server auth', 'client auth'],
        'invalid usage for client certificate: server auth',
      ],
      [
        notNode,
        kubeAPIServerClientSigner,
        ['digital signature'],
        'missing required usage for client certificate: client auth',
      ],
    ];
    for (const [pem, signer, usages, message] of cases) {
      assert.deepEqual(
        await signRequest(csrOf(pem, signer, usages), cfg()),
        { failed: message },
        `${signer} ${message}`
      );
    }
    // and the good ones for the other two signers
    const s = await signRequest(csrOf(serving, kubeletServingSigner, ['digital signature', 'server auth']), cfg());
    assert.ok(s && 'certificate' in s);
    assert.deepEqual(parseCertificate(s.certificate).dnsNames, ['n1']);
    assert.deepEqual(parseCertificate(s.certificate).usages, ['server']);
    const c = await signRequest(csrOf(notNode, kubeAPIServerClientSigner, ['client auth']), cfg());
    assert.ok(c && 'certificate' in c);
    assert.equal(parseCertificate(c.certificate).commonName, 'alice');
  });

  it('fails weak keys, unsupported curves and PEM that does not parse, never signing them', async () => {
    const usages = ['digital signature', 'key encipherment', 'client auth'];
    const subject = '/O=system:nodes/CN=system:node:n1';
    const rsa1024 = opensslCSR(keyPem('rsa', { modulusLength: 1024 }), subject);
    assert.deepEqual(await signRequest(csrOf(rsa1024, kubeletClientSigner, usages), cfg()), {
      failed: 'RSA keys must be at least 2048 bits, got 1024',
    });
    const rsa2048 = opensslCSR(keyPem('rsa', { modulusLength: 2048 }), subject);
    const ok = await signRequest(csrOf(rsa2048, kubeletClientSigner, usages), cfg());
    assert.ok(ok && 'certificate' in ok);
    const k1 = opensslCSR(keyPem('ec', { namedCurve: 'secp256k1' }), subject);
    assert.deepEqual(await signRequest(csrOf(k1, kubeletClientSigner, ['digital signature', 'client auth']), cfg()), {
      failed: 'unsupported elliptic curve secp256k1: want P-256, P-384 or P-521',
    });
    const garbage = await signRequest(csrOf('not a pem', kubeletClientSigner, usages), cfg());
    assert.ok(garbage && 'failed' in garbage);
    assert.match(garbage.failed, /^unable to parse csr "csr-1": /);
  });
});

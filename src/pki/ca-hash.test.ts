import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { caCertHash } from './ca-hash.js';
import { createCA } from './ca.js';

// kubeadm's documented recipe for --discovery-token-ca-cert-hash, run by a shell.
function opensslHash(certPem: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pki-hash-'));
  try {
    writeFileSync(join(dir, 'ca.crt'), certPem);
    const out = execSync('openssl x509 -pubkey -noout -in ca.crt | openssl pkey -pubin -outform der | sha256sum', {
      cwd: dir,
      encoding: 'utf8',
    });
    return `sha256:${out.split(' ')[0]}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('caCertHash', () => {
  it('caCertHash - equals the openssl computation for ECDSA and RSA CAs', async () => {
    for (const keyAlgorithm of ['ECDSA-P256', 'RSA-2048'] as const) {
      const ca = await createCA({ commonName: 'kubernetes', keyAlgorithm });
      const hash = caCertHash(ca.cert);
      assert.match(hash, /^sha256:[0-9a-f]{64}$/);
      assert.equal(hash, opensslHash(ca.cert), keyAlgorithm);
    }
  });
});

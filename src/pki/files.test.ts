import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { apiServerSANs } from './apiserver-sans.js';
import { parseCertificate, verifyIssuedBy } from './certificates.js';
import { ensureClusterPKI, writeCertFile, writeKeyFile, type ClusterPKI } from './files.js';

const mode = (path: string): number => statSync(path).mode & 0o777;
const options = { hostname: 'node-1', advertiseAddress: '192.168.5.10', serviceClusterIPRange: '10.96.0.0/12' };

describe('files', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'pki-files-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('writeKeyFile - 0600 even with an open umask, replacing a looser file, leaving no temporary file', async () => {
    const dir = join(root, 'write');
    const path = join(dir, 'a.key');
    const cert = join(dir, 'a.crt');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, 'old', { mode: 0o644 });
    const umask = process.umask(0);
    try {
      await writeKeyFile(path, 'secret');
      await writeCertFile(cert, 'public');
    } finally {
      process.umask(umask);
    }
    assert.equal(mode(path), 0o600);
    assert.equal(mode(cert), 0o644);
    assert.deepEqual(readdirSync(dir).sort(), ['a.crt', 'a.key']);
  });

  it('writeKeyFile - a failed write leaves nothing behind', async () => {
    await assert.rejects(writeKeyFile(join(root, 'missing', 'a.key'), 'secret'), { code: 'ENOENT' });
    assert.equal(existsSync(join(root, 'missing')), false);
  });

  describe('ensureClusterPKI', () => {
    let dir: string;
    let first: ClusterPKI;
    before(async () => {
      dir = join(root, 'pki');
      first = await ensureClusterPKI(dir, options);
    });

    it('ensureClusterPKI - creates CA, serving and admin pairs with the right modes and names', () => {
      for (const name of ['ca', 'apiserver', 'admin'] as const) {
        const files = first[name];
        assert.equal(files.generated, true, name);
        assert.equal(files.certPath, join(dir, `${name}.crt`));
        assert.equal(mode(files.keyPath), 0o600, name);
        assert.equal(mode(files.certPath), 0o644, name);
      }
      const serving = parseCertificate(first.apiserver.cert);
      assert.equal(serving.commonName, 'kube-apiserver');
      assert.deepEqual(serving.usages, ['server']);
      assert.deepEqual({ dnsNames: serving.dnsNames, ipAddresses: serving.ipAddresses }, apiServerSANs(options));
      const admin = parseCertificate(first.admin.cert);
      assert.deepEqual(
        [admin.commonName, admin.organizations, admin.usages],
        ['kubernetes-admin', ['system:masters'], ['client']]
      );
      assert.ok(verifyIssuedBy(first.apiserver.cert, first.ca.cert) && verifyIssuedBy(first.admin.cert, first.ca.cert));
    });

    it('ensureClusterPKI - loads everything unchanged on a second run', async () => {
      const again = await ensureClusterPKI(dir, options);
      for (const name of ['ca', 'apiserver', 'admin'] as const) {
        assert.equal(again[name].generated, false, name);
        assert.equal(again[name].cert, first[name].cert, name);
        assert.equal(again[name].key, first[name].key, name);
      }
    });

    it('ensureClusterPKI - reissues only the serving cert when the SANs change', async () => {
      const moved = await ensureClusterPKI(dir, { ...options, advertiseAddress: 'fd00::5' });
      assert.deepEqual([moved.ca.generated, moved.apiserver.generated, moved.admin.generated], [false, true, false]);
      assert.equal(moved.ca.cert, first.ca.cert);
      assert.ok(parseCertificate(moved.apiserver.cert).ipAddresses.includes('fd00::5'));
    });

    it('ensureClusterPKI - reissues a leaf whose file is missing or whose user changed', async () => {
      unlinkSync(join(dir, 'admin.crt'));
      const restored = await ensureClusterPKI(dir, options);
      assert.equal(restored.admin.generated, true);
      const renamed = await ensureClusterPKI(dir, { ...options, adminUser: 'alice' });
      assert.equal(renamed.admin.generated, true);
      assert.equal(parseCertificate(renamed.admin.cert).commonName, 'alice');
    });

    it('ensureClusterPKI - a CA certificate without its key is an error, not a new CA', async () => {
      const lonely = join(root, 'lonely');
      mkdirSync(lonely, { recursive: true });
      writeFileSync(join(lonely, 'ca.crt'), first.ca.cert);
      await assert.rejects(ensureClusterPKI(lonely, options), /found .*ca\.crt but not .*ca\.key/);
      writeFileSync(join(lonely, 'ca.key'), first.admin.key);
      await assert.rejects(ensureClusterPKI(lonely, options), /ca\.key is not the key of .*ca\.crt/);
    });

    it('ensureClusterPKI - invalid options fail before anything is written', async () => {
      const untouched = join(root, 'untouched');
      await assert.rejects(
        ensureClusterPKI(untouched, { ...options, serviceClusterIPRange: '10.96.0.0/99' }),
        /invalid service cluster IP range "10\.96\.0\.0\/99"/
      );
      assert.equal(existsSync(untouched), false);
    });
  });
});

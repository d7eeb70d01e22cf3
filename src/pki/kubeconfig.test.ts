import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { createCA, type CertKeyPair } from './ca.js';
import { issueCertificate } from './certificates.js';
import { writeKeyFile } from './files.js';
import { kubeconfig } from './kubeconfig.js';

const HOUR_MS = 60 * 60 * 1000;
const run = promisify(execFile);
// The versioned kubectl binaries sit beside the real file behind `which kubectl`.
const kubectl = join(
  dirname(realpathSync(execFileSync('which', ['kubectl'], { encoding: 'utf8' }).trim())),
  'kubectl.1.33'
);

describe('kubeconfig', () => {
  let dir: string;
  let ca: CertKeyPair;
  let serving: CertKeyPair;
  let admin: CertKeyPair;
  let server: https.Server;
  let path: string;
  let yaml: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pki-kubeconfig-'));
    ca = await createCA({ commonName: 'kubernetes' });
    [serving, admin] = await Promise.all([
      issueCertificate({
        ca,
        commonName: 'kube-apiserver',
        ipAddresses: ['127.0.0.1'],
        usages: ['server'],
        validityMs: HOUR_MS,
      }),
      issueCertificate({
        ca,
        commonName: 'kubernetes-admin',
        organizations: ['system:masters'],
        usages: ['client'],
        validityMs: HOUR_MS,
      }),
    ]);
    // Just enough API server to show that kubectl (Go's TLS stack) trusts our server and is trusted by it.
    server = https.createServer(
      { ...serving, ca: ca.cert, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ path: req.url, user: peer.subject.CN, group: peer.subject.O }));
      }
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    yaml = kubeconfig({
      server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
      caPem: ca.cert,
      clientCertPem: admin.cert,
      clientKeyPem: admin.key,
    });
    path = join(dir, 'admin.conf');
    await writeKeyFile(path, yaml);
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kubeconfig - YAML with one cluster, user and context, credentials embedded as base64', () => {
    const config = parse(yaml);
    assert.equal(config.apiVersion, 'v1');
    assert.equal(config.kind, 'Config');
    assert.equal(config['current-context'], 'hubspoke');
    assert.deepEqual(config.contexts, [{ name: 'hubspoke', context: { cluster: 'hubspoke', user: 'admin' } }]);
    assert.equal(config.clusters[0].name, 'hubspoke');
    assert.equal(Buffer.from(config.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), ca.cert);
    assert.equal(config.users[0].name, 'admin');
    assert.equal(Buffer.from(config.users[0].user['client-certificate-data'], 'base64').toString(), admin.cert);
    assert.equal(Buffer.from(config.users[0].user['client-key-data'], 'base64').toString(), admin.key);
  });

  it('kubeconfig - kubectl config view accepts it', async () => {
    const { stdout } = await run(kubectl, ['config', 'view', '--kubeconfig', path, '--raw', '-o', 'json']);
    const view = JSON.parse(stdout);
    assert.equal(view['current-context'], 'hubspoke');
    assert.deepEqual(view.clusters, parse(yaml).clusters);
    assert.deepEqual(view.users, parse(yaml).users);
  });

  it('kubeconfig - kubectl verifies the server by IP SAN and authenticates with the client certificate', async () => {
    const { stdout } = await run(kubectl, [
      'get',
      '--raw',
      '/version',
      '--kubeconfig',
      path,
      '--request-timeout',
      '10s',
    ]);
    assert.deepEqual(JSON.parse(stdout), {
      path: '/version?timeout=10s',
      user: 'kubernetes-admin',
      group: 'system:masters',
    });
  });
});

// Kubelet TLS bootstrapping by hand (no kubelet): with a fresh bootstrap token, ask for a kubelet client
// certificate for system:node:n1 with a locally generated key, see it approved and issued within seconds by the
// controllers, then act as the node with it: create and update Node n1 and its Lease, renew its own certificate,
// get a serving certificate for its own names, and be refused (403) on Node n2 and n2's Lease; a certificate for
// n2, or a serving certificate naming something else, stays pending.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { StatusError } from '../../src/api/errors.js';
import { KubeClient } from '../../src/lib/kube-client.js';
import { createCSR, parseCertificate } from '../../src/pki/index.js';
import { startTestControlPlane } from '../framework/control-plane.js';

type Obj = Record<string, any>;
const csrs = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const rbac = '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings';
const leases = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';

const token = (n: number): string => randomBytes(n).toString('hex').slice(0, n);

async function forbidden(what: string, p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof StatusError, `${what}: ${String(err)}`);
    assert.equal(err.code, 403, `${what}: ${err.message}`);
    return true;
  });
}

/** Creates a kubelet client CSR for `node` with a fresh ECDSA P-256 key, as the kubelet does. */
async function requestClientCertificate(client: KubeClient, node: string): Promise<{ name: string; key: string }> {
  const { csr, key } = await createCSR({ commonName: `system:node:${node}`, organizations: ['system:nodes'] });
  const name = `node-csr-${token(16)}`;
  await client.request('POST', csrs, {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: {
      request: Buffer.from(csr).toString('base64'),
      signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
      usages: ['digital signature', 'client auth'],
    },
  });
  return { name, key };
}

/** Waits, as the kubelet does (reading its own CSR), until the CSR is Approved and issued. */
async function waitIssued(client: KubeClient, name: string, ms: number): Promise<Obj> {
  const deadline = Date.now() + ms;
  for (;;) {
    const csr = await client.get<Obj>(`${csrs}/${name}`);
    const approved = (csr.status?.conditions ?? []).some((c: Obj) => c.type === 'Approved');
    if (approved && csr.status?.certificate) return csr;
    if (Date.now() > deadline) throw new Error(`CSR ${name} not issued in ${ms}ms: ${JSON.stringify(csr.status)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('TLS bootstrap by hand: bootstrap token → approved, issued kubelet certificate → Node and Lease', async (t) => {
  const cp = await startTestControlPlane(t);
  const pki = join(cp.dataDir, 'pki');
  const caPem = readFileSync(join(pki, 'ca.crt'), 'utf8');
  const admin = new KubeClient({
    server: cp.url,
    caPem,
    certPem: readFileSync(join(pki, 'admin.crt'), 'utf8'),
    keyPem: readFileSync(join(pki, 'admin.key'), 'utf8'),
  });
  t.after(() => admin.close());

  // What kubeadm sets up: bootstrappers may create CSRs and have them auto-approved; nodes may renew.
  const bind = (name: string, role: string, group: string): Promise<unknown> =>
    admin.request('POST', rbac, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
    });
  await bind('test:kubelet-bootstrap', 'system:node-bootstrapper', 'system:bootstrappers');
  await bind(
    'test:node-autoapprove-bootstrap',
    'system:certificates.k8s.io:certificatesigningrequests:nodeclient',
    'system:bootstrappers'
  );
  await bind(
    'test:node-autoapprove-certificate-rotation',
    'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient',
    'system:nodes'
  );

  // A fresh bootstrap token.
  const id = token(6);
  const secret = token(16);
  await admin.request('POST', '/api/v1/namespaces/kube-system/secrets', {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `bootstrap-token-${id}` },
    type: 'bootstrap.kubernetes.io/token',
    stringData: {
      'token-id': id,
      'token-secret': secret,
      expiration: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
      'usage-bootstrap-authentication': 'true',
    },
  });
  const bootstrap = new KubeClient({ server: cp.url, caPem, token: `${id}.${secret}` });
  t.after(() => bootstrap.close());

  const started = Date.now();
  const first = await requestClientCertificate(bootstrap, 'n1');
  const issued = await waitIssued(bootstrap, first.name, 5000);
  const elapsed = Date.now() - started;
  assert.equal(issued.spec.username, `system:bootstrap:${id}`);
  assert.ok(issued.spec.groups.includes('system:bootstrappers'));
  const approval = issued.status.conditions.find((c: Obj) => c.type === 'Approved');
  assert.equal(approval.reason, 'AutoApproved');
  assert.equal(approval.message, 'Auto approving kubelet client certificate after SubjectAccessReview.');
  const certPem = Buffer.from(issued.status.certificate, 'base64').toString();
  const info = parseCertificate(certPem);
  assert.equal(info.commonName, 'system:node:n1');
  assert.deepEqual(info.organizations, ['system:nodes']);
  assert.deepEqual(info.usages, ['client']);
  t.diagnostic(`approved and issued in ${elapsed} ms`);

  // The bootstrap token itself cannot act as a node.
  await forbidden('bootstrap token creating a Node', bootstrap.request('POST', '/api/v1/nodes', node('n1')));

  const n1 = new KubeClient({ server: cp.url, caPem, certPem, keyPem: first.key });
  t.after(() => n1.close());

  // Node n1 registers itself, updates its status and its Lease.
  await n1.request('POST', '/api/v1/nodes', node('n1'));
  const got = await n1.get<Obj>('/api/v1/nodes/n1');
  await n1.request('PUT', '/api/v1/nodes/n1/status', {
    ...got,
    status: { ...got.status, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ok' }] },
  });
  await n1.request(
    'PATCH',
    '/api/v1/nodes/n1',
    { metadata: { labels: { 'kubernetes.io/hostname': 'n1' } } },
    'application/merge-patch+json'
  );
  await n1.request('POST', leases, lease('n1'));
  const l = await n1.get<Obj>(`${leases}/n1`);
  await n1.request('PUT', `${leases}/n1`, { ...l, spec: { ...l.spec, renewTime: new Date().toISOString() } });
  assert.equal((await admin.get<Obj>('/api/v1/nodes/n1')).status.conditions[0].type, 'Ready');

  // ... and nothing of n2's.
  await forbidden('n1 creating Node n2', n1.request('POST', '/api/v1/nodes', node('n2')));
  await admin.request('POST', '/api/v1/nodes', node('n2'));
  await admin.request('POST', leases, lease('n2'));
  await forbidden(
    'n1 patching Node n2',
    n1.request('PATCH', '/api/v1/nodes/n2', { metadata: { labels: { x: 'y' } } }, 'application/merge-patch+json')
  );
  await forbidden(
    'n1 updating Node n2 status',
    n1.request('PUT', '/api/v1/nodes/n2/status', await admin.get('/api/v1/nodes/n2'))
  );
  await forbidden('n1 reading Node n2', n1.get('/api/v1/nodes/n2'));
  await forbidden('n1 deleting Node n2', n1.request('DELETE', '/api/v1/nodes/n2'));
  await forbidden('n1 updating Lease n2', n1.request('PUT', `${leases}/n2`, await admin.get(`${leases}/n2`)));

  // n1 renews its own certificate (selfnodeclient) but cannot get one for n2: that CSR stays pending.
  const renewal = await requestClientCertificate(n1, 'n1');
  const renewed = await waitIssued(n1, renewal.name, 5000);
  assert.equal(
    renewed.status.conditions.find((c: Obj) => c.type === 'Approved').message,
    'Auto approving self kubelet client certificate after SubjectAccessReview.'
  );
  const stolen = await requestClientCertificate(n1, 'n2');

  // Serving certificates (which upstream leaves to an administrator) are approved for the node's own names only.
  const live = await n1.get<Obj>('/api/v1/nodes/n1');
  const addresses = [
    { type: 'InternalIP', address: '10.1.2.3' },
    { type: 'Hostname', address: 'n1' },
  ];
  await n1.request('PUT', '/api/v1/nodes/n1/status', { ...live, status: { ...live.status, addresses } });
  const serving = async (dnsNames: string[], ipAddresses: string[]): Promise<string> => {
    const { csr } = await createCSR({
      commonName: 'system:node:n1',
      organizations: ['system:nodes'],
      dnsNames,
      ipAddresses,
    });
    const name = `csr-${token(8)}`;
    await n1.request('POST', csrs, {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name },
      spec: {
        request: Buffer.from(csr).toString('base64'),
        signerName: 'kubernetes.io/kubelet-serving',
        usages: ['digital signature', 'server auth'],
      },
    });
    return name;
  };
  const own = await waitIssued(n1, await serving(['n1'], ['10.1.2.3']), 5000);
  const servingCert = parseCertificate(Buffer.from(own.status.certificate, 'base64').toString());
  assert.deepEqual(
    [servingCert.dnsNames, servingCert.ipAddresses, servingCert.usages],
    [['n1'], ['10.1.2.3'], ['server']]
  );
  const foreign = await serving(['n1', 'apiserver.example'], ['10.1.2.3']);
  await new Promise((r) => setTimeout(r, 1500));
  for (const name of [stolen.name, foreign]) {
    const pending = await admin.get<Obj>(`${csrs}/${name}`);
    assert.deepEqual(pending.status?.conditions ?? [], [], name);
    assert.equal(pending.status?.certificate, undefined, name);
  }
});

function node(name: string): Obj {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name } };
}

function lease(name: string): Obj {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name },
    spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date().toISOString() },
  };
}

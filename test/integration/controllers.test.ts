// The controllers against a real API server, each with only its own certificate and RBAC role: the default
// ServiceAccount and kube-root-ca.crt in every namespace (and back after deletion), kubectl certificate
// approve/deny of an openssl CSR (1.27 and 1.33), the bootstrap token cleaner, the `kubernetes` Service and its
// endpoints (from API-server leases, or the local server without them), and the controllers' RBAC.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { controllerServiceAccounts } from '../../src/controllers/manager.js';
import { adminClient, eventually } from '../framework/api.js';
import { startTestControlPlane } from '../framework/control-plane.js';
import { kubectl } from '../framework/kubectl.js';

type Obj = Record<string, any>;

/** An openssl-made CSR PEM (RSA 2048 key) for CN/O. */
function opensslCSR(subject: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hubspoke-openssl-'));
  try {
    return execFileSync(
      'openssl',
      ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-subj', subject],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('controllers', async (t) => {
  const cp = await startTestControlPlane(t);
  const admin = adminClient(cp);
  t.after(() => admin.close());
  const caPem = readFileSync(join(cp.dataDir, 'pki', 'ca.crt'), 'utf8');

  await t.test('a new namespace gets ServiceAccount default and kube-root-ca.crt, again after deletion', async () => {
    await admin.request('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'ctl' },
    });
    const sa = '/api/v1/namespaces/ctl/serviceaccounts/default';
    const cm = '/api/v1/namespaces/ctl/configmaps/kube-root-ca.crt';
    const first = await eventually('default SA', () => admin.getOptional<Obj>(sa));
    const root = await eventually('kube-root-ca.crt', () => admin.getOptional<Obj>(cm));
    assert.equal(root.data['ca.crt'], caPem);
    assert.match(root.metadata.annotations['kubernetes.io/description'], /^Contains a CA bundle/);
    // every existing namespace too
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      await eventually(`SA in ${ns}`, () => admin.getOptional<Obj>(`/api/v1/namespaces/${ns}/serviceaccounts/default`));
      await eventually(`CA in ${ns}`, () =>
        admin.getOptional<Obj>(`/api/v1/namespaces/${ns}/configmaps/kube-root-ca.crt`)
      );
    }

    await admin.request('DELETE', sa);
    const again = await eventually('default SA re-created', async () => {
      const o = await admin.getOptional<Obj>(sa);
      return o && o.metadata.uid !== first.metadata.uid ? o : undefined;
    });
    assert.equal(again.metadata.name, 'default');

    await admin.request('DELETE', cm);
    await eventually('kube-root-ca.crt re-created', async () => {
      const o = await admin.getOptional<Obj>(cm);
      return o && o.metadata.uid !== root.metadata.uid ? o : undefined;
    });
    const live = await admin.get<Obj>(cm);
    await admin.request('PUT', cm, { ...live, data: { 'ca.crt': 'tampered' } });
    await eventually('kube-root-ca.crt restored', async () =>
      (await admin.get<Obj>(cm)).data['ca.crt'] === caPem ? true : undefined
    );
  });

  for (const minor of [27, 33]) {
    await t.test(`kubectl 1.${minor} certificate approve and deny an openssl CSR`, async () => {
      const k = kubectl(minor, cp.kubeconfigPath);
      const request = Buffer.from(opensslCSR(`/O=dev/CN=alice-${minor}`)).toString('base64');
      for (const name of [`approve-${minor}`, `deny-${minor}`]) {
        await k.ok(['create', '-f', '-'], {
          stdin: JSON.stringify({
            apiVersion: 'certificates.k8s.io/v1',
            kind: 'CertificateSigningRequest',
            metadata: { name },
            spec: {
              request,
              signerName: 'kubernetes.io/kube-apiserver-client',
              usages: ['digital signature', 'key encipherment', 'client auth'],
              expirationSeconds: 3600,
            },
          }),
        });
      }
      // kube-apiserver-client CSRs are never auto-approved.
      await new Promise((r) => setTimeout(r, 500));
      assert.match(await k.ok(['get', 'csr', `approve-${minor}`]), new RegExp(`approve-${minor}\\s.*\\sPending\\n`));

      assert.match(
        await k.ok(['certificate', 'approve', `approve-${minor}`]),
        /certificatesigningrequest.certificates.k8s.io\/approve-\d+ approved/
      );
      assert.match(
        await k.ok(['certificate', 'deny', `deny-${minor}`]),
        /certificatesigningrequest.certificates.k8s.io\/deny-\d+ denied/
      );
      const issued = await eventually('the approved CSR issued', async () => {
        const o = await admin.get<Obj>(`/apis/certificates.k8s.io/v1/certificatesigningrequests/approve-${minor}`);
        return o.status?.certificate ? o : undefined;
      });
      const cert = Buffer.from(issued.status.certificate, 'base64').toString();
      const text = execFileSync('openssl', ['x509', '-noout', '-subject', '-issuer', '-enddate'], {
        input: cert,
        encoding: 'utf8',
      });
      assert.match(text, new RegExp(`subject=O = dev, CN = alice-${minor}`));
      assert.match(text, /issuer=CN = kubernetes/);
      const table = await k.ok(['get', 'csr']);
      assert.match(table, new RegExp(`approve-${minor}\\s.*kubernetes.io/kube-apiserver-client\\s.*Approved,Issued`));
      assert.match(table, new RegExp(`deny-${minor}\\s.*Denied\\n`));
      const denied = await admin.get<Obj>(`/apis/certificates.k8s.io/v1/certificatesigningrequests/deny-${minor}`);
      assert.equal(denied.status?.certificate, undefined);
      assert.equal(denied.status.conditions[0].reason, 'KubectlDeny');
    });
  }

  await t.test('the signer fails an approved CSR whose subject its signer does not allow', async () => {
    await admin.request('POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name: 'not-a-node' },
      spec: {
        request: Buffer.from(opensslCSR('/O=system:nodes/CN=mallory')).toString('base64'),
        signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
        usages: ['digital signature', 'key encipherment', 'client auth'],
      },
    });
    const path = '/apis/certificates.k8s.io/v1/certificatesigningrequests/not-a-node';
    const csr = await admin.get<Obj>(path);
    await admin.request('PUT', `${path}/approval`, {
      ...csr,
      status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Test', message: 'test' }] },
    });
    const failed = await eventually('Failed condition', async () => {
      const o = await admin.get<Obj>(path);
      return o.status.conditions?.find((c: Obj) => c.type === 'Failed');
    });
    assert.equal(failed.reason, 'SignerValidationFailure');
    assert.equal(failed.message, 'subject common name does not begin with system:node:');
    assert.equal((await admin.get<Obj>(path)).status.certificate, undefined);
  });

  await t.test('an expired bootstrap token Secret is deleted; a live one is kept', async () => {
    const secret = (id: string, expiration: string): Obj => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system' },
      type: 'bootstrap.kubernetes.io/token',
      stringData: {
        'token-id': id,
        'token-secret': '0123456789abcdef',
        expiration,
        'usage-bootstrap-authentication': 'true',
      },
    });
    const secrets = '/api/v1/namespaces/kube-system/secrets';
    await admin.request('POST', secrets, secret('old111', new Date(Date.now() - 60_000).toISOString()));
    await admin.request('POST', secrets, secret('soon22', new Date(Date.now() + 2_000).toISOString()));
    await admin.request('POST', secrets, secret('live33', new Date(Date.now() + 3600_000).toISOString()));
    await eventually('expired token deleted', async () =>
      (await admin.getOptional<Obj>(`${secrets}/bootstrap-token-old111`)) ? undefined : true
    );
    await eventually('token deleted when it expires', async () =>
      (await admin.getOptional<Obj>(`${secrets}/bootstrap-token-soon22`)) ? undefined : true
    );
    assert.ok(await admin.getOptional<Obj>(`${secrets}/bootstrap-token-live33`));
  });

  await t.test('the kubernetes Service, Endpoints and EndpointSlice point at the API servers', async () => {
    const svc = await eventually('Service kubernetes', () =>
      admin.getOptional<Obj>('/api/v1/namespaces/default/services/kubernetes')
    );
    assert.equal(svc.spec.clusterIP, '127.96.0.1');
    assert.deepEqual(svc.spec.ports, [{ name: 'https', port: 443, protocol: 'TCP', targetPort: cp.server.port }]);
    assert.deepEqual(svc.metadata.labels, { component: 'apiserver', provider: 'kubernetes' });
    const local = [
      { addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: cp.server.port, protocol: 'TCP' }] },
    ];
    const endpoints = (): Promise<Obj | undefined> =>
      admin.getOptional<Obj>('/api/v1/namespaces/default/endpoints/kubernetes');
    const slice = (): Promise<Obj | undefined> =>
      admin.getOptional<Obj>('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes');
    const ep = await eventually('Endpoints', endpoints);
    assert.deepEqual(ep.subsets, local);
    assert.equal(ep.metadata.labels['endpointslice.kubernetes.io/skip-mirror'], 'true');
    const es = await eventually('EndpointSlice', slice);
    assert.equal(es.addressType, 'IPv4');
    assert.deepEqual(es.metadata.labels, { 'kubernetes.io/service-name': 'kubernetes' });
    assert.deepEqual(
      es.endpoints.map((e: Obj) => [e.addresses, e.conditions.ready]),
      [[['127.0.0.1'], true]]
    );
    assert.deepEqual(es.ports, [{ name: 'https', port: cp.server.port, protocol: 'TCP' }]);

    // With API-server identity leases, the live ones are listed; when they lapse, the local server again.
    const lease = (name: string, ip: string, port: number, durationSeconds: number): Obj => ({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name,
        namespace: 'kube-system',
        labels: { 'apiserver.kubernetes.io/identity': 'kube-apiserver' },
        annotations: { 'hubspoke.io/advertise-address': ip, 'hubspoke.io/secure-port': String(port) },
      },
      spec: { holderIdentity: name, leaseDurationSeconds: durationSeconds, renewTime: new Date().toISOString() },
    });
    const leases = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases';
    await admin.request('POST', leases, lease('apiserver-a', '127.0.0.1', cp.server.port, 3600));
    await admin.request('POST', leases, lease('apiserver-b', '127.0.0.2', cp.server.port, 3));
    const two = [{ ip: '127.0.0.1' }, { ip: '127.0.0.2' }];
    await eventually('two API servers listed', async () => {
      const e = await endpoints();
      return JSON.stringify(e?.subsets?.[0]?.addresses) === JSON.stringify(two) ? true : undefined;
    });
    await eventually('slice lists both', async () => ((await slice())?.endpoints?.length === 2 ? true : undefined));
    await eventually('the lapsed lease dropped', async () => {
      const e = await endpoints();
      return JSON.stringify(e?.subsets) === JSON.stringify(local) ? true : undefined;
    });

    // A deleted Endpoints comes back.
    await admin.request('DELETE', '/api/v1/namespaces/default/endpoints/kubernetes');
    await eventually('Endpoints re-created', endpoints);
  });

  await t.test('the controllers hold only their own roles: none is cluster-admin or system:masters', async () => {
    const subjectsOf = (b: Obj): Obj[] => b.subjects ?? [];
    const crbs = (await admin.get<{ items: Obj[] }>('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings')).items;
    const rbs = (await admin.get<{ items: Obj[] }>('/apis/rbac.authorization.k8s.io/v1/rolebindings')).items;
    const identities = [...new Set(Object.values(controllerServiceAccounts))];
    for (const sa of identities) {
      const user = `system:serviceaccount:kube-system:${sa}`;
      const groups = ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'];
      const binds = (b: Obj): boolean =>
        subjectsOf(b).some(
          (s) =>
            (s.kind === 'ServiceAccount' && s.name === sa && s.namespace === 'kube-system') ||
            (s.kind === 'User' && s.name === user) ||
            (s.kind === 'Group' && groups.includes(s.name))
        );
      const roles = [...crbs, ...rbs].filter(binds).map((b) => b.roleRef.name);
      assert.ok(!roles.includes('cluster-admin'), `${sa} is bound to cluster-admin`);
      assert.ok(
        roles.some((r) => r.startsWith('system:controller:')),
        `${sa} is bound to its controller role (${roles.join(', ')})`
      );
      // The real authorizer agrees: it may not do what only an administrator may.
      const review = await admin.request<Obj>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user,
          groups,
          resourceAttributes: { verb: 'create', resource: 'clusterrolebindings', group: 'rbac.authorization.k8s.io' },
        },
      });
      assert.equal(review.status.allowed, false, `${sa} may create clusterrolebindings`);
    }
    const clusterAdmin = crbs.filter((b) => b.roleRef.name === 'cluster-admin').flatMap(subjectsOf);
    assert.deepEqual(
      clusterAdmin.map((s) => `${s.kind}/${s.name}`),
      ['Group/system:masters']
    );
  });
});

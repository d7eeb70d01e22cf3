// API server identity leases: each server keeps kube-system/apiserver-<id> renewed with its address and port;
// expired identity leases are garbage collected; a clean shutdown removes the server's own lease.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { StatusError } from '../../src/api/errors.js';
import { rfc3339Micro } from '../../src/api/meta.js';
import { KubeClient } from '../../src/lib/kube-client.js';
import { startTestControlPlane } from '../framework/control-plane.js';

const leases = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases';
const selector = 'labelSelector=apiserver.kubernetes.io%2Fidentity%3Dkube-apiserver';

test('identity lease - renewed with address and port; expired ones collected; removed on shutdown', async (t) => {
  const cp = await startTestControlPlane(t, { identityLeaseDurationMs: 2000, identityLeaseRenewIntervalMs: 300 });
  const { ca, admin } = cp.server.pki;
  const client = new KubeClient({ server: cp.url, caPem: ca.cert, certPem: admin.cert, keyPem: admin.key });
  t.after(() => client.close());

  const list = await client.get(`${leases}?${selector}`);
  assert.equal(list.items.length, 1);
  const lease = list.items[0];
  assert.match(lease.metadata.name, /^apiserver-[a-z2-7]{26}$/);
  assert.equal(lease.metadata.annotations['hubspoke.io/advertise-address'], '127.0.0.1');
  assert.equal(lease.metadata.annotations['hubspoke.io/secure-port'], String(cp.server.port));
  assert.ok(lease.spec.holderIdentity.startsWith(`${lease.metadata.name}_`));
  assert.equal(lease.spec.leaseDurationSeconds, 2);
  await sleep(700);
  const renewed = await client.get(`${leases}/${lease.metadata.name}`);
  assert.ok(renewed.spec.renewTime > lease.spec.renewTime, 'renewTime moves on');
  assert.equal(renewed.spec.holderIdentity, lease.spec.holderIdentity);

  const fake = (name: string, renewTime: string, leaseDurationSeconds: number) => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, labels: { 'apiserver.kubernetes.io/identity': 'kube-apiserver' } },
    spec: { holderIdentity: `${name}_x`, renewTime, leaseDurationSeconds },
  });
  await client.request('POST', leases, fake('apiserver-gone', rfc3339Micro(new Date(Date.now() - 60_000)), 15));
  await client.request('POST', leases, fake('apiserver-alive', rfc3339Micro(), 3600));
  const deadline = Date.now() + 5000;
  for (;;) {
    const names = (await client.get(`${leases}?${selector}`)).items.map((l: any) => l.metadata.name);
    if (!names.includes('apiserver-gone')) {
      assert.ok(names.includes('apiserver-alive'));
      assert.ok(names.includes(lease.metadata.name));
      break;
    }
    assert.ok(Date.now() < deadline, 'expired identity lease collected');
    await sleep(200);
  }

  await cp.server.close();
  // The store outlives the server until the control plane closes: the lease is gone from it.
  await assert.rejects(
    cp.server.stores.get('coordination.k8s.io/v1/leases')!.get('kube-system', lease.metadata.name),
    (err) => err instanceof StatusError && err.code === 404
  );
});
